#!/usr/bin/env python3
"""crypto_kat.py — the known answers of tests/unit/test_crypto.c, computed with
an implementation independent of ordo's (python3-cryptography, which wraps
OpenSSL too, but none of ordo's code: the derivation, nonce, AAD and trailer
layout are re-done here from docs/security.md).

    python3 tests/unit/crypto_kat.py     # prints the known answers test_crypto.c holds (hex)
"""
import struct
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

SALT = b'ordo frame security v1'
KEY = bytes(range(64))          # the key file's bytes
RING, NODE, COUNTER = 1, 2, 1000


def hkdf(info, n):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=SALT, info=info).derive(KEY)


def frame(hdr=40, size=64):
    f = bytearray((100 + i) & 0xff for i in range(size))  # hdr header bytes, then the body
    struct.pack_into('<HI', f, 6, hdr, size)  # hdr_size, frame_size
    struct.pack_into('<H', f, 12, NODE)    # sender
    f[14] = 1                              # path index: not authenticated
    return bytes(f)


def seal(cipher, protect, hdr=40, size=64):
    suite = 0x80 | (protect << 4) | cipher   # bit 7: a key per (sender, incarnation)
    info = bytes([suite, RING])
    base = hkdf(b'ordo frame key' + info, 32)
    iv = hkdf(b'ordo frame iv.' + info, 12)
    f = frame(hdr, size)
    incarnation = struct.unpack_from('<Q', f, 16)[0]  # the header's, bytes 16..23
    key = HKDFExpand(algorithm=hashes.SHA256(), length=32,
                     info=b'ordo frame subkey' + struct.pack('>HQ', NODE, incarnation)).derive(base)
    fp = struct.unpack('<Q', hkdf(b'ordo key id', 8))[0]
    epoch = fp & 0xffff
    nonce = bytes(a ^ b for a, b in zip(iv, struct.pack('>HHQ', NODE, 0, COUNTER)))
    trailer = struct.pack('<BBHQ', suite, 0, epoch, COUNTER)
    aad = f[:14] + b'\0' + f[15:hdr] + trailer
    aead = AESGCM(key) if cipher == 1 else ChaCha20Poly1305(key)
    if protect == 1:
        ct = aead.encrypt(nonce, f[hdr:], aad)
        body, tag = ct[:-16], ct[-16:]
    else:
        tag = aead.encrypt(nonce, b'', aad + f[hdr:])
        body = f[hdr:]
    return fp, f[:hdr] + body + trailer + tag


def carr(name, b):
    return f'static const char {name}[] = "{b.hex()}";'


for cipher, cname in ((1, 'aes'), (2, 'chacha')):
    for protect, pname in ((1, 'enc'), (2, 'auth')):
        fp, sealed = seal(cipher, protect)
        print(carr(f'kat_{cname}_{pname}', sealed))
# a header longer than the inline AAD buffer (80 bytes of a 128-byte frame)
fp, sealed = seal(1, 1, hdr=80, size=128)
print(carr('kat_aes_enc_hdr80', sealed))
print(f'#define KAT_FINGERPRINT 0x{fp:016x}ull')
