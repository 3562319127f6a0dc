"""A local stand-in of the MAX Bot API (platform-api2.max.ru): see sandbox.max.standin."""

from sandbox.max.standin import MaxStandIn

__all__ = ["MaxStandIn"]
