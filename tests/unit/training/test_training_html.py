"""Page lessons are sanitised when saved (nh3)."""

from __future__ import annotations

import pytest

from lms.training.html import sanitize


@pytest.mark.parametrize(("typed", "stored"), [
    ('<p onclick="x()">Chào<script>alert(1)</script></p>', "<p>Chào</p>"),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
    ('<a href="https://vi.wikipedia.org">w</a>',
     '<a href="https://vi.wikipedia.org" rel="noopener noreferrer nofollow">w</a>'),
    ('<img src="http://outside.example/track.png" alt="a">', '<img alt="a">'),
    ('<img src="//outside.example/x.png">', "<img>"),
    ('<img src="/records/1/files/2/preview" alt="b">',
     '<img src="/records/1/files/2/preview" alt="b">'),
    ("<style>body{display:none}</style><h2>Tiêu đề</h2>", "<h2>Tiêu đề</h2>"),
    ('<iframe src="/x"></iframe><table><tr><td colspan="2">ô</td></tr></table>',
     '<table><tbody><tr><td colspan="2">ô</td></tr></tbody></table>'),
    ("Dòng một\nDòng hai\n\nĐoạn 2 < 3 & ba",
     "<p>Dòng một<br>Dòng hai</p><p>Đoạn 2 &lt; 3 &amp; ba</p>"),
])
def test_sanitize(typed, stored):
    assert sanitize(typed) == stored
