// Package magstripe reads payment cards from a serial magnetic-stripe (or
// dip) reader that sends ISO/IEC 7813 track data as ASCII lines.
//
// The reader is set up (with its vendor's utility) to send, for each card,
// one line holding track 1 and/or track 2, each followed by its longitudinal
// redundancy check (LRC) character, and, for dip readers, the line
// "CARD OUT" when the card leaves. Lines end with CR, LF or CRLF:
//
//	%B4111111111111111^DOE/JANE^2512101000000000000?X;4111111111111111=25121010000000000?Y\r\n
//	CARD OUT\r\n
//
// Track 1 ('%' … '?') uses the 6-bit character set (ASCII 0x20–0x5F); track 2
// (';' … '?') the 4-bit one (ASCII 0x30–0x3F). A track's LRC is the XOR of
// the character values (ASCII minus 0x20 for track 1, minus 0x30 for track 2)
// from start to end sentinel, sent as a character of the same set.
//
// A line of track data becomes a cardreader.Inserted event: the card number
// (from track 2, or track 1 if that is all there is) goes through
// cardreader.ParsePAN (length and Luhn), the expiry is kept as YYMM, and the
// cardholder name and discretionary data are dropped. "CARD OUT" becomes
// cardreader.Removed. Garbage (noise, or a reader talking at another baud
// rate), a cut line, an overlong line, a bad LRC or an invalid number gives an
// error that names the problem and never the card data; the reader stays
// usable. Line buffers are zeroed after each line.
package magstripe
