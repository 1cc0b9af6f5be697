"""The member card's images: a QR code (segno) and a Code 128 barcode (python-barcode) of the member number,
each as a standalone SVG document that the card page shows with `<img>` (same-origin images pass the CSP's
`img-src 'self'`; nothing inline).

Both carry exactly the member number and nothing else, so a till scanner types the number as if keyed in.
The barcode has no human-readable text from the library: the card page prints the number itself, in the
reader's own type.
"""

from __future__ import annotations

import io

import segno
from barcode import Code128
from barcode.writer import SVGWriter

# One SVG "user unit" is a CSS pixel: 96 per inch, so 96 / 25.4 per millimetre.
_USER_UNITS_PER_MM = 96 / 25.4
# python-barcode's defaults, spelled out: 0.2 mm bars, 6.5 mm quiet zones (ten modules is the minimum), 15 mm tall.
BARCODE_OPTIONS = {"module_width": 0.2, "module_height": 15.0, "quiet_zone": 6.5, "write_text": False,
                   "background": "white", "foreground": "black"}
QR_ERROR = "m"  # segno raises it when the version has room to spare (boost_error), never lowers it


class _ScalableSVGWriter(SVGWriter):
    """python-barcode's SVG writer (0.15-0.16) sizes the document in millimetres without a viewBox, so an
    `<img>` smaller or larger than that crops the bars instead of scaling them. This adds the viewBox (the same
    size in user units) and leaves out the DOCTYPE; the bars are the library's, untouched. `_root` is the
    writer's own document element (set in `_init`); pyproject pins python-barcode below 0.17."""

    def __init__(self) -> None:
        super().__init__()
        self.with_doctype = False

    def _finish(self):
        root = self._root
        width = float(root.getAttribute("width").removesuffix("mm"))
        height = float(root.getAttribute("height").removesuffix("mm"))
        root.setAttribute("viewBox", f"0 0 {width * _USER_UNITS_PER_MM:.3f} {height * _USER_UNITS_PER_MM:.3f}")
        # Bars may stretch to the box the page gives them (wider bars scan better; height does not matter).
        root.setAttribute("preserveAspectRatio", "none")
        return super()._finish()


def member_qr_svg(*, member_number: str) -> bytes:
    """A regular QR code (never a Micro QR, which few till scanners read) of the member number, black on white
    with the standard four-module quiet zone, sized by its viewBox only (the page decides how big)."""
    qr = segno.make_qr(member_number, error=QR_ERROR)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=1, border=4, dark="#000", light="#fff", omitsize=True, xmldecl=True,
            svgclass=None, lineclass=None)
    return out.getvalue()


def member_barcode_svg(*, member_number: str) -> bytes:
    """A Code 128 barcode of the member number (all digits: code set C, two digits per symbol), without text."""
    return Code128(member_number, writer=_ScalableSVGWriter()).render(dict(BARCODE_OPTIONS))
