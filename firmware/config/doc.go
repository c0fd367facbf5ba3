// Package config is palmd's configuration file: its fields, defaults and
// validation.
//
// Load is the one validation palmd runs, for "palmd -t" and at start alike:
// it reads the file, applies the flags (Hardware, URL, LogLevel options),
// checks every field and decodes the uplink's keys (Uplink.Keys). Before the
// file is decoded, its shape is walked against Config, so a syntax error
// names the file, line and column, and a value of the wrong type, an unknown
// or a repeated key names its field path in the file's terms:
//
//	config: /data/palmd/config.json:4:53: linux.card_reader.baud: want a number, got "fast"
//
// A cloud URL that leaves the machine must use TLS and credentials. A valid
// configuration may still lack what a kiosk gets when it is provisioned
// (keys, credential files): Missing lists it, and palmd stays in its
// not-provisioned mode until the list is empty.
package config
