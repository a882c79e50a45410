package com.pizzario.flink;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Whether a record's bytes can be a JSON text at all: UTF-8, strictly, and nothing that would
 * make Jackson read it in another encoding. Checked before the parse, which is lenient here.
 *
 * <p>A JSON text exchanged between systems must be UTF-8 (RFC 8259, section 8.1), and the
 * contract's identifiers end up in the dedupe's state, the archive and the offers, where two
 * byte strings that decode to the same text would be two identities. Jackson's UTF-8 parser
 * (2.14, as Flink 1.20 shades it) decodes overlong forms ({@code C0 AF} as "/"), encoded
 * surrogates ({@code ED A0 80}) and sequences above U+10FFFF ({@code F4 90 80 80}) instead of
 * refusing them, and a sequence cut short by a quote ({@code C3 22}) swallows the quote. And
 * from a record's first bytes it guesses UTF-16 or UTF-32 (a byte order mark, or a zero byte
 * among the first two: JSON's first character is ASCII), so a UTF-16 ping would read as valid.
 */
final class Utf8Json {

    /** Eight bytes at a time for the ASCII runs that make up nearly every ping. */
    private static final VarHandle EIGHT_BYTES =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private Utf8Json() {}

    /**
     * True when the record is well-formed UTF-8 (Unicode's table 3-7: shortest forms only, no
     * surrogates, nothing above U+10FFFF, no sequence cut short), starts with neither a byte order
     * mark nor a zero byte, and has no zero second byte.
     *
     * <p>One pass, no allocation. The UTF-8 byte order mark is refused too: RFC 8259 forbids
     * sending one, and a record that carries one came from a sender that was not writing JSON for
     * the network. A zero byte later in a record is well-formed UTF-8; inside a string it is a
     * control character, which the contract refuses by name, and anywhere else it breaks the
     * parse.
     */
    static boolean isUtf8(byte[] record) {
        int length = record.length;
        if ((length > 0 && record[0] == 0) || (length > 1 && record[1] == 0)) {
            return false;
        }
        if (length >= 3 && record[0] == (byte) 0xEF && record[1] == (byte) 0xBB
                && record[2] == (byte) 0xBF) {
            return false;
        }
        int at = 0;
        while (at < length) {
            if (at + 8 <= length && ((long) EIGHT_BYTES.get(record, at) & HIGH_BITS) == 0) {
                at += 8;
                continue;
            }
            int lead = record[at] & 0xFF;
            if (lead < 0x80) {
                at++;
                continue;
            }
            int size;
            int secondMin = 0x80;
            int secondMax = 0xBF;
            if (lead < 0xC2) {
                return false; // a continuation byte without a lead, or an overlong C0/C1 lead
            } else if (lead < 0xE0) {
                size = 2;
            } else if (lead < 0xF0) {
                size = 3;
                if (lead == 0xE0) {
                    secondMin = 0xA0; // below: an overlong form of a two-byte character
                } else if (lead == 0xED) {
                    secondMax = 0x9F; // above: a UTF-16 surrogate, U+D800 to U+DFFF
                }
            } else if (lead < 0xF5) {
                size = 4;
                if (lead == 0xF0) {
                    secondMin = 0x90; // below: an overlong form of a three-byte character
                } else if (lead == 0xF4) {
                    secondMax = 0x8F; // above: beyond U+10FFFF
                }
            } else {
                return false; // F5 to FF lead nothing in UTF-8
            }
            if (at + size > length) {
                return false;
            }
            int second = record[at + 1] & 0xFF;
            if (second < secondMin || second > secondMax) {
                return false;
            }
            for (int next = at + 2; next < at + size; next++) {
                if ((record[next] & 0xC0) != 0x80) {
                    return false;
                }
            }
            at += size;
        }
        return true;
    }
}
