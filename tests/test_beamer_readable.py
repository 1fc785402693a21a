"""Beamer slides readable from the back of a lecture hall: formulas at least \\large, reasons at
normal size in a dark colour, a frame with one step set larger and centred."""

import re

from gradproof.reports import build_report


def _frames(tex):
    return re.findall(r"\\begin\{frame\}(\[[tc]\])\{([^\n]*)\}\n(.*?)\\end\{frame\}", tex, re.S)


def test_step_frames_are_large_with_readable_reasons():
    tex = build_report(["softmax-jacobian", "log-softmax-gradient", "mlp-backprop"], format="beamer",
                       verify=False, figures=False)
    step_frames = [(opt, body) for opt, title, body in _frames(tex) if "\\begin{align*}" in body]
    assert step_frames
    for opt, body in step_frames:
        assert body.lstrip().startswith(("{\\large", "\\vfill{\\Large")), body[:40]
        reasons = re.findall(r"\\shortintertext\{\\onslide<\d+->\{(\\[a-z]+)\\color\{([^}]*)\}", body)
        assert reasons and all(size == "\\normalsize" and colour == "black!75" for size, colour in reasons)
        assert "\\small\\color{gray}" not in body
    single = [(opt, body) for opt, body in step_frames if body.count("\\shortintertext") == 1]
    assert single, "expected a frame holding a single step"
    for opt, body in single:
        assert opt == "[c]" and body.lstrip().startswith("\\vfill{\\Large") and body.rstrip().endswith("\\vfill")
    for opt, body in step_frames:
        if body.count("\\shortintertext") > 1:
            assert opt == "[t]"  # steps revealed one by one: nothing may jump
