#!/usr/bin/env python3
"""Render `tmux capture-pane -e -p` output (text with SGR colour codes) to a PNG.

Usage: ansi2png.py INPUT.ansi OUTPUT.png COLS ROWS
Needs Pillow and the DejaVu Sans Mono font (Noto CJK is used for wide glyphs
when installed). Used by scripts/screenshot.
"""
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

PALETTE = [
    (0x1d, 0x1f, 0x21), (0xcc, 0x66, 0x66), (0xb5, 0xbd, 0x68), (0xf0, 0xc6, 0x74),
    (0x81, 0xa2, 0xbe), (0xb2, 0x94, 0xbb), (0x8a, 0xbe, 0xb7), (0xc5, 0xc8, 0xc6),
    (0x66, 0x66, 0x66), (0xff, 0x77, 0x77), (0xd0, 0xe0, 0x80), (0xff, 0xe0, 0x90),
    (0xa0, 0xc0, 0xe0), (0xe0, 0xb0, 0xf0), (0xa0, 0xe0, 0xd8), (0xff, 0xff, 0xff),
]
BG = (0x16, 0x18, 0x1c)
FG = (0xd8, 0xda, 0xd8)
CELL_W, CELL_H, SIZE = 10, 20, 16

def color256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)

def width(ch):
    if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1

def parse(line):
    """Yields (char, fg, bg, bold, reverse) per character."""
    fg, bg, bold, rev = None, None, False, False
    pos = 0
    for m in re.finditer(r"\x1b\[([0-9;:]*)m|(.)", line):
        if m.group(2) is not None:
            yield m.group(2), fg, bg, bold, rev
            continue
        codes = [int(c) if c else 0 for c in re.split("[;:]", m.group(1) or "0")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                fg, bg, bold, rev = None, None, False, False
            elif c == 1:
                bold = True
            elif c == 22:
                bold = False
            elif c == 7:
                rev = True
            elif c == 27:
                rev = False
            elif 30 <= c <= 37:
                fg = PALETTE[c - 30]
            elif 90 <= c <= 97:
                fg = PALETTE[c - 90 + 8]
            elif c == 39:
                fg = None
            elif 40 <= c <= 47:
                bg = PALETTE[c - 40]
            elif 100 <= c <= 107:
                bg = PALETTE[c - 100 + 8]
            elif c == 49:
                bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    col = color256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    col = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    fg = col
                else:
                    bg = col
            i += 1

def main():
    src, out, cols, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    mono = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", SIZE)
    bold = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf", SIZE)
    try:
        wide = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", SIZE)
    except OSError:
        wide = mono
    img = Image.new("RGB", (cols * CELL_W, rows * CELL_H), BG)
    draw = ImageDraw.Draw(img)
    lines = open(src, encoding="utf-8", errors="replace").read().split("\n")[:rows]
    for y, line in enumerate(lines):
        x = 0
        for ch, fg, bg, is_bold, rev in parse(line):
            w = width(ch)
            if w == 0:
                continue
            f, b = fg or FG, bg or BG
            if rev:
                f, b = b, f
            draw.rectangle([x * CELL_W, y * CELL_H, (x + w) * CELL_W - 1, (y + 1) * CELL_H - 1], fill=b)
            font = wide if w == 2 or ord(ch) > 0x2fff else (bold if is_bold else mono)
            draw.text((x * CELL_W, y * CELL_H + 1), ch, font=font, fill=f)
            x += w
    img.save(out)

if __name__ == "__main__":
    main()
