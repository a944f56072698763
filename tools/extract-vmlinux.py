#!/usr/bin/env python3
"""extract-vmlinux: unpack the ELF kernel (vmlinux) from an x86 bzImage.

Usage: extract-vmlinux.py BZIMAGE OUT

qemu boots an ELF kernel that carries a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) directly,
skipping real-mode setup and the in-guest decompression, which is slow under TCG.

The bzImage setup header (Documentation/arch/x86/boot.rst) gives setup_sects at 0x1f1 and, from
protocol 2.08, payload_offset/payload_length at 0x248/0x24c, relative to the protected-mode code
that starts after the (setup_sects + 1) * 512 byte real-mode part. The payload is the compressed
vmlinux (plus relocations appended after the ELF image, which we drop).
Exit status: 0 written, 1 on any error (message on stderr).
"""
import bz2
import lzma
import shutil
import struct
import subprocess
import sys
import zlib


def fail(msg):
    sys.stderr.write(f"extract-vmlinux: error: {msg}\n")
    sys.exit(1)


def payload_of(image):
    if len(image) < 0x250 or image[0x202:0x206] != b"HdrS":
        fail("not a bzImage (no HdrS setup header)")
    (version,) = struct.unpack_from("<H", image, 0x206)
    if version < 0x208:
        fail(f"boot protocol {version:#x} is older than 2.08 (no payload fields)")
    setup_sects = image[0x1F1] or 4
    offset, length = struct.unpack_from("<II", image, 0x248)
    start = (setup_sects + 1) * 512 + offset
    return image[start : start + length]


def decompress(data):
    if data.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if data.startswith(b"\x1f\x8b"):
        return zlib.decompressobj(wbits=31).decompress(data)
    if data.startswith(b"BZh"):
        return bz2.BZ2Decompressor().decompress(data)
    if data.startswith(b"\x5d\x00\x00"):
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(data)
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        if not shutil.which("zstd"):
            fail("zstd payload and no zstd program")
        # The kernel appends its 4-byte size after the frame; zstd stops at the frame's end.
        return subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE,
                              check=False).stdout
    fail(f"unknown payload compression (magic {data[:6].hex()})")


def elf_image(data):
    """Returns the ELF file proper (headers, segments, section table), and whether it has PVH."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        fail("payload is not a 64-bit ELF file")
    e_phoff, e_shoff = struct.unpack_from("<QQ", data, 0x20)
    e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", data, 0x36)
    end = e_shoff + e_shentsize * e_shnum
    pvh = False
    for i in range(e_phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data,
                                                                 e_phoff + i * e_phentsize)
        end = max(end, p_offset + p_filesz)
        if p_type == 4:  # PT_NOTE: look for ("Xen", XEN_ELFNOTE_PHYS32_ENTRY = 18)
            pos, stop = p_offset, p_offset + p_filesz
            while pos + 12 <= stop:
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                name = data[pos + 12 : pos + 12 + namesz].rstrip(b"\0")
                if name == b"Xen" and ntype == 18:
                    pvh = True
                pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    if end > len(data):
        fail("truncated ELF image")
    return data[:end], pvh


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: extract-vmlinux.py BZIMAGE OUT\n")
        sys.exit(2)
    with open(sys.argv[1], "rb") as f:
        image = f.read()
    elf, pvh = elf_image(decompress(payload_of(image)))
    if not pvh:
        fail("the kernel has no PVH entry note (CONFIG_PVH is off); boot the bzImage instead")
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
    shutil.move(tmp, sys.argv[2])
    sys.stderr.write(f"extract-vmlinux: wrote {sys.argv[2]} ({len(elf)} bytes, PVH entry)\n")


if __name__ == "__main__":
    main()
