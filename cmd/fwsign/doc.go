// Command fwsign makes and checks the signed envelopes of package secureboot:
// firmware bundles (a root filesystem image for an A/B slot) and device
// config documents.
//
//	fwsign keygen -out DIR
//	fwsign bundle -key KEY -version N [-release R] [-product P] [-created UNIX] -image IMG -out BUNDLE
//	fwsign config -key KEY -version N [-release R] [-product P] [-created UNIX] -in config.json -out config.signed
//	fwsign release -key KEY -version N [-release R] [-product P] [-created UNIX] -exe palmd -out release.sig
//	fwsign verify -pub PUB [-config] [-product P] [-min N] FILE
//
// keygen writes DIR/fwsign.key (PKCS #8 PEM, mode 0600; it refuses to
// overwrite) and DIR/fwsign.pub (PKIX PEM), the file the device trusts.
// -version is the anti-rollback version: a uint64 that must rise with every
// release; -release is the human version string. config checks the document
// with palmd's own config parser before signing it. release writes only the
// signed header over the palmd executable: the image ships it as
// /usr/lib/palmd/release.sig, and palmd verifies it against its own binary
// to learn the version floor no state file can lower
// (secureboot.Policy.VerifyRelease). verify prints the
// manifest as JSON and exits non-zero if any check fails. Outputs are written
// to a temporary file and renamed into place, so a failed run leaves no
// half-written bundle.
//
// The exit status is 0 on success, 1 on failure and 2 on a usage error.
package main
