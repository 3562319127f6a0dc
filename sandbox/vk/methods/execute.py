"""``execute``: up to 25 API calls in one request, written in (a subset of) VKScript.

Each API.* call runs with the execute request's token, so the token-type and scope rules
apply per method; a call that fails gives ``false`` in the result and an entry in
``execute_errors`` beside ``response``, and does not fail the request. Code outside the subset
of ``sandbox.vk.vkscript`` is error 12; a 26th API call is error 13 (the calls before it have
been made, as on VK). The whole execute is one request for the rate limit.
"""

from __future__ import annotations

from typing import Any

from sandbox.vk import vkscript
from sandbox.vk.api import Answer, ApiFailure, Call, invalid
from sandbox.vk.methods.registry import method


@method("execute")
def execute(call: Call) -> Answer:
    """Run the code's API calls in order and answer what it returns."""
    code = call.text("code")
    if not code.strip():
        raise invalid("code is undefined")
    try:
        program = vkscript.compile_code(code)
    except vkscript.CompileError as error:
        raise ApiFailure(12, str(error)) from None
    invoke = call.invoke
    if invoke is None:  # only the endpoint makes execute calls, and it always passes invoke
        raise ApiFailure(12, "execute cannot be nested")
    errors: list[dict[str, Any]] = []

    def run(inner: vkscript.ApiCall) -> Any:
        params = {key: value for key, value in inner.params.items() if key != "access_token"}
        params["v"] = call.text("v")
        try:
            return invoke(inner.method, params)
        except ApiFailure as failure:
            errors.append(
                {"method": inner.method, "error_code": failure.code, "error_msg": failure.message}
            )
            return False

    try:
        response = program.run(run)
    except vkscript.TooManyCalls:
        raise ApiFailure(13, "too many API calls") from None
    return Answer(response, {"execute_errors": errors} if errors else {})
