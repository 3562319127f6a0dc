"""Quizzes with the audience: answer matching, spreadsheet import, and the quiz engine."""
