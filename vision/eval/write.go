package eval

import (
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"os"
	"strconv"
	"strings"

	"github.com/palmd/palmd/vision/liveness"
)

// WriteSet renders every frame of s as PNG files under dir (which must not
// exist yet or be empty) with a manifest, in the format OpenExternalSet
// reads: each capture's pairs, then one challenge-response burst as the
// pipeline would draw it (a recording has no second burst for a hand that
// held still), the presence sensor's distance and the black level. Frame
// bytes go only to files in dir.
func WriteSet(ctx context.Context, dir string, s SynthSet) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval: write set: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("eval: write set: %w", err)
	}
	defer root.Close()
	mf, err := root.OpenFile(ManifestName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("eval: write set: %w", err)
	}
	defer mf.Close()
	cw := csv.NewWriter(mf)
	cw.Write(burstHeader)
	frames := &Frames{}
	defer frames.wipe()
	for i := range s.Len() {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := s.Capture(i, frames)
		if err := root.Mkdir(c.Name, 0o755); err != nil {
			return fmt.Errorf("eval: write set: %w", err)
		}
		var names []string
		for k := range c.Pairs {
			for _, lit := range []bool{true, false} {
				img, err := c.Frame(k, lit)
				if err != nil {
					return err
				}
				kind := "lit"
				if !lit {
					kind = "unlit"
				}
				name := fmt.Sprintf("%s/%02d_%s.png", c.Name, k, kind)
				if err := writePNG(root, name, img); err != nil {
					return err
				}
				names = append(names, name)
			}
		}
		var pattern [liveness.BurstFrames]uint8
		patternFor(c.Seed, 0, pattern[:])
		var burst []string
		for i, b := range pattern {
			img, err := c.Burst(i, 2*c.Pairs+i, b)
			if err != nil {
				return err
			}
			name := fmt.Sprintf("%s/b%d_%s.png", c.Name, i, bankName(b))
			if err := writePNG(root, name, img); err != nil {
				return err
			}
			burst = append(burst, bankName(b)+":"+name)
		}
		dist := ""
		if c.DistanceMM > 0 {
			dist = strconv.Itoa(c.DistanceMM)
		}
		cw.Write([]string{c.Name, c.Identity, c.Label.String(), strings.Join(names, ";"),
			strings.Join(burst, ";"), dist, strconv.FormatFloat(c.Black, 'f', 2, 64)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("eval: write manifest: %w", err)
	}
	if err := mf.Close(); err != nil {
		return fmt.Errorf("eval: write manifest: %w", err)
	}
	return nil
}

// writePNG writes img to name inside root.
func writePNG(root *os.Root, name string, img *image.Gray) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("eval: write frame: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("eval: write frame %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: write frame %s: %w", name, err)
	}
	return nil
}
