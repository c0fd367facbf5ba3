package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckAgreesWithStart runs palmd -t and palmd's start over every
// configuration in firmware/config/testdata and the image's own: start
// refuses a configuration (a usage error, exit status 2, which the unit
// does not restart) exactly when -t does, with the same message, and -t
// accepts what start runs with. Start runs with its context already ended,
// so it stops at once once past the configuration.
func TestCheckAgreesWithStart(t *testing.T) {
	files, err := filepath.Glob("../../firmware/config/testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../buildroot/board/palmkiosk/overlay/usr/share/palmd/config.json")
	if len(files) < 20 {
		t.Fatalf("only %d configs found", len(files))
	}
	refused := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var out, errOut bytes.Buffer
			checkErr := run(context.Background(), []string{"-t", "-config", path}, strings.NewReader(""), &out, &errOut)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			startErr := run(ctx, []string{"-config", path}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
			var u usageError
			startRefused := errors.As(startErr, &u)
			if (checkErr != nil) != startRefused {
				t.Fatalf("palmd -t: %v; start: %v", checkErr, startErr)
			}
			if checkErr != nil {
				refused++
				if checkErr.Error() != startErr.Error() {
					t.Fatalf("palmd -t says %q, start says %q", checkErr, startErr)
				}
				return
			}
			if !strings.HasPrefix(out.String(), "configuration ok") {
				t.Fatalf("palmd -t printed %q", out.String())
			}
		})
	}
	if refused == 0 || refused == len(files) {
		t.Fatalf("%d of %d configs refused: the table does not test both sides", refused, len(files))
	}
}
