"""Question banks and quizzes: examinations that decide a result.

Banks hold versioned questions in nested categories; a quiz draws its form from them (fixed
questions and random ones per category), either as a lesson of a course (its lesson completes
when the quiz is passed) or on its own for a unit's assessment. The server owns the clock and
the key: an attempt's deadline is stored when it starts, and nothing from which the key could
be derived reaches the browser before the attempt is submitted.

Modules by job: ``banks`` (banks, categories, questions and their versions), ``kinds`` (what
each question type checks and how it is graded), ``transfer`` and ``gift`` (import and export),
``quizzes`` (settings, forms, the preset), ``attempts`` (start, save, submit, close),
``grading`` (scores, results, completion, regrade), ``statistics`` (item analysis).
"""
