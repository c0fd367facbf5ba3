package eval

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/synth"
)

const goodManifest = "capture,identity,label,frames\n" +
	"c1,alice,genuine,c1/0l.png;c1/0u.png;c1/1l.png;c1/1u.png;c1/2l.png;c1/2u.png;c1/3l.png;c1/3u.png\n" +
	"c2, bob ,screen_replay,\"a.pgm; b.pgm;c.PGM;d.pgm;e.pgm;f.pgm;g.pgm;h.pgm\"\n"

// burstManifest has the burst columns: one capture recorded with its
// burst, one without (judged on its pairs).
const burstManifest = "capture,identity,label,frames,burst,distance_mm,black_level\n" +
	"c1,alice,vein_print,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png," +
	"left:b0.png;off:b1.png;both:b2.png;right:b3.png;off:b4.png;both:b5.png;right:b6.png;left:b7.png,152,14.5\n" +
	"c2,bob,genuine,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png,,,\n"

const pairs8 = "a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png"

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Entry
		wantErr string
	}{
		{"good", goodManifest, []Entry{
			{Capture: "c1", Identity: "alice", Label: synth.Genuine, Frames: []string{"c1/0l.png", "c1/0u.png", "c1/1l.png", "c1/1u.png",
				"c1/2l.png", "c1/2u.png", "c1/3l.png", "c1/3u.png"}},
			{Capture: "c2", Identity: "bob", Label: synth.ScreenReplay, Frames: []string{"a.pgm", "b.pgm", "c.PGM", "d.pgm", "e.pgm", "f.pgm", "g.pgm", "h.pgm"}},
		}, ""},
		{"empty", "", nil, "header"},
		{"header only", "capture,identity,label,frames\n", nil, "no captures"},
		{"wrong header", "capture,person,label,frames\n", nil, "header column 2"},
		{"unknown label", "capture,identity,label,frames\nc,a,cardboard,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n", nil, "unknown presentation"},
		{"odd frames", "capture,identity,label,frames\nc,a,genuine,a.png;b.png;c.png\n", nil, "even number"},
		{"one pair", "capture,identity,label,frames\nc,a,genuine,a.png;b.png\n", nil, "at least 4"},
		{"shorter than a burst", "capture,identity,label,frames\nc,a,genuine,a.png;b.png;c.png;d.png;e.png;f.png\n", nil, "at least 4"},
		{"parent dir", "capture,identity,label,frames\nc,a,genuine,../a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n", nil, "relative slash path"},
		{"absolute", "capture,identity,label,frames\nc,a,genuine,/etc/a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n", nil, "relative slash path"},
		{"not an image", "capture,identity,label,frames\nc,a,genuine,a.jpg;b.png;c.png;d.png\n", nil, "relative slash path"},
		{"empty frame", "capture,identity,label,frames\nc,a,genuine,a.png;;c.png;d.png\n", nil, "relative slash path"},
		{"empty identity", "capture,identity,label,frames\nc,,genuine,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n", nil, "1 to"},
		{"duplicate", "capture,identity,label,frames\nc,a,genuine,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\nc,a,genuine,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n", nil, "twice"},
		{"short row", "capture,identity,label,frames\nc,a,genuine\n", nil, "wrong number of fields"},
		{"burst columns", burstManifest, []Entry{
			{Capture: "c1", Identity: "alice", Label: synth.VeinPrint, Frames: strings.Split(pairs8, ";"), DistanceMM: 152, Black: 14.5,
				Burst: []BurstFrame{{liveness.BankLeft, "b0.png"}, {liveness.BanksOff, "b1.png"}, {liveness.BanksBoth, "b2.png"}, {liveness.BankRight, "b3.png"},
					{liveness.BanksOff, "b4.png"}, {liveness.BanksBoth, "b5.png"}, {liveness.BankRight, "b6.png"}, {liveness.BankLeft, "b7.png"}}},
			{Capture: "c2", Identity: "bob", Label: synth.Genuine, Frames: strings.Split(pairs8, ";")},
		}, ""},
		{"five columns", "capture,identity,label,frames,burst\nc,a,genuine," + pairs8 + ",\n", nil, "header has 5 columns"},
		{"burst column misnamed", "capture,identity,label,frames,pattern,distance_mm,black_level\nc,a,genuine," + pairs8 + ",,,\n", nil, "header column 5"},
		{"unknown bank state", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 +
			",up:a.png;off:b.png;left:c.png;left:d.png;right:e.png;right:f.png;both:g.png;both:h.png,,\n", nil, "state off, left, right or both"},
		{"burst without states", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 + "," + pairs8 + ",,\n", nil, "state off, left, right or both"},
		{"burst frame outside", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 +
			",off:../a.png;off:b.png;left:c.png;left:d.png;right:e.png;right:f.png;both:g.png;both:h.png,,\n", nil, "relative slash path"},
		{"burst of 7", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 +
			",off:a.png;off:b.png;left:c.png;left:d.png;right:e.png;right:f.png;both:g.png,,\n", nil, "burst of 7 frames"},
		{"burst without unlit frames", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 +
			",both:a.png;both:b.png;left:c.png;left:d.png;right:e.png;right:f.png;both:g.png;both:h.png,,\n", nil, "two of each state"},
		{"distance in metres", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 + ",,0.15,\n", nil, "distance_mm \"0.15\""},
		{"negative black level", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 + ",,,-3\n", nil, "black_level \"-3\""},
		{"black level NaN", "capture,identity,label,frames,burst,distance_mm,black_level\nc,a,genuine," + pairs8 + ",,,NaN\n", nil, "black_level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseManifest(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrManifest mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Capture != w.Capture || g.Identity != w.Identity || g.Label != w.Label || strings.Join(g.Frames, "|") != strings.Join(w.Frames, "|") ||
					!slices.Equal(g.Burst, w.Burst) || g.DistanceMM != w.DistanceMM || g.Black != w.Black {
					t.Errorf("entry %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestDecodePGM(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		pix     []byte
		wantErr string
	}{
		{"plain", "P5\n3 1\n255\n\x00\x80\xff", []byte{0, 128, 255}, ""},
		{"comments", "P5 # a frame\n# size next\n2 1 # w h\n255\n\x01\x02", []byte{1, 2}, ""},
		{"maxval 15 scales", "P5\n2 1\n15\n\x00\x0f", []byte{0, 255}, ""},
		{"ascii pgm", "P2\n1 1\n255\n7\n", nil, "not a binary PGM"},
		{"10-bit in two bytes", "P5\n4 1\n1023\n\x00\x00\x01\x00\x02\x01\x03\xff", []byte{0, 64, 128, 255}, ""},
		{"16-bit", "P5\n3 1\n65535\n\x00\x00\x80\x00\xff\xff", []byte{0, 128, 255}, ""},
		{"16-bit rows", "P5\n1 2\n65535\n\x00\x80\xff\x00", []byte{0, 254}, ""},
		{"maxval 256 is two bytes", "P5\n1 1\n256\n\x00", nil, "pixels"},
		{"16-bit above maxval", "P5\n1 1\n1023\n\x04\x00", nil, "above the maximum value 1023"},
		{"maxval 65536", "P5\n1 1\n65536\n\x00\x00", nil, "out of range 1..65535"},
		{"maxval 0", "P5\n1 1\n0\n\x00", nil, "out of range 1..65535"},
		{"zero size", "P5\n0 1\n255\n", nil, "out of range"},
		{"huge", "P5\n99999 99999\n255\n", nil, "out of range"},
		{"long number", "P5\n1234567 1\n255\n", nil, "too long"},
		{"too wide", "P5\n9000 1\n255\n", nil, "out of range"},
		{"short pixels", "P5\n2 2\n255\n\x00", nil, "pixels"},
		{"above maxval", "P5\n1 1\n10\n\x0b", nil, "above the maximum"},
		{"letters", "P5\nab 1\n255\n", nil, "not a number"},
		{"truncated header", "P5\n2", nil, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := DecodePGM(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrFrame mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(img.Pix, tt.pix) {
				t.Errorf("pixels = %v, want %v", img.Pix, tt.pix)
			}
		})
	}
}

func TestPGMRoundTrip(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 17)
	}
	var b bytes.Buffer
	if err := EncodePGM(&b, img.SubImage(image.Rect(1, 1, 4, 3)).(*image.Gray)); err != nil {
		t.Fatal(err)
	}
	got, err := DecodePGM(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rect.Dx() != 3 || got.Rect.Dy() != 2 || got.Pix[0] != img.Pix[6] || got.Pix[5] != img.Pix[13] {
		t.Errorf("round trip = %v %v", got.Rect, got.Pix)
	}
}

func TestLoadFrame(t *testing.T) {
	dir := t.TempDir()
	gray := image.NewGray(image.Rect(0, 0, 4, 2))
	gray.Pix[3] = 99
	rgba := image.NewRGBA(image.Rect(0, 0, 4, 2))
	rgba.Set(0, 0, color.RGBA{1, 2, 3, 255})
	write := func(name string, img image.Image) {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("gray.png", gray)
	write("rgba.png", rgba)
	gray16 := image.NewGray16(gray.Rect) // a 10-bit sensor's 396, scaled to 16 bits as PNG requires
	gray16.SetGray16(3, 0, color.Gray16{Y: 396 << 6})
	write("gray16.png", gray16)
	var b bytes.Buffer
	if err := EncodePGM(&b, gray); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gray.pgm"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "outside.pgm"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"gray.png", "gray.pgm", "gray16.png"} {
		img, err := LoadFrame(root, name)
		if err != nil || img.Pix[3] != 99 {
			t.Errorf("LoadFrame(%s) = %v, %v", name, img, err)
		}
	}
	if _, err := LoadFrame(root, "rgba.png"); !errors.Is(err, ErrFrame) {
		t.Errorf("colour PNG: err = %v, want ErrFrame", err)
	}
	if _, err := LoadFrame(root, "../outside.pgm"); err == nil {
		t.Error("LoadFrame read outside its root")
	}
}

// FuzzParseManifest checks that no input panics and that what parses obeys
// the format's rules.
func FuzzParseManifest(f *testing.F) {
	f.Add(goodManifest)
	f.Add(burstManifest)
	f.Add("capture,identity,label,frames\nc,a,rigid_replica,x/a.png;x/b.png;x/c.png;x/d.png\n")
	f.Add("capture,identity,label,frames\n\"c\nd\",a,genuine,a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n")
	f.Add("capture,identity,label,frames\nc,a,genuine,../a.png;b.png;c.png;d.png;e.png;f.png;g.png;h.png\n")
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseManifest(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %v is not ErrManifest", err)
			}
			return
		}
		for _, e := range entries {
			if len(e.Frames)%2 != 0 || len(e.Frames) < 4 || e.Capture == "" || e.Identity == "" {
				t.Fatalf("accepted bad entry %+v", e)
			}
			for _, fr := range e.Frames {
				if !validFrameName(fr) || !filepath.IsLocal(fr) {
					t.Fatalf("accepted frame name %q", fr)
				}
			}
			var count [4]int
			for _, b := range e.Burst {
				if b.Banks > liveness.BanksBoth || !validFrameName(b.Name) || !filepath.IsLocal(b.Name) {
					t.Fatalf("accepted burst frame %+v", b)
				}
				count[b.Banks]++
			}
			if len(e.Burst) != 0 && count != [4]int{2, 2, 2, 2} {
				t.Fatalf("accepted burst %+v", e.Burst)
			}
			if e.DistanceMM < 0 || e.DistanceMM > 1000 || !(e.Black >= 0 && e.Black < 255) {
				t.Fatalf("accepted distance %d, black level %v", e.DistanceMM, e.Black)
			}
		}
	})
}

// FuzzDecodePGM checks that no input panics, errors are ErrFrame, and
// decoded frames are within the size limits.
func FuzzDecodePGM(f *testing.F) {
	f.Add([]byte("P5\n3 1\n255\n\x00\x80\xff"))
	f.Add([]byte("P5 # c\n2 1\n15\n\x00\x0f"))
	f.Add([]byte("P5\n99999 99999\n255\n"))
	f.Add([]byte("P2\n1 1\n255\n7\n"))
	f.Add([]byte("P5\n2 1\n1023\n\x00\x00\x03\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		img, err := DecodePGM(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("error %v is not ErrFrame", err)
			}
			return
		}
		b := img.Bounds()
		if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > maxSide || b.Dy() > maxSide || len(img.Pix) != b.Dx()*b.Dy() {
			t.Fatalf("decoded %v with %d pixels", b, len(img.Pix))
		}
	})
}

// FuzzDecodePNG checks the PNG path: no panics, only greyscale images within
// the size limits, errors wrapped in ErrFrame.
func FuzzDecodePNG(f *testing.F) {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:40])
	var b16 bytes.Buffer
	if err := png.Encode(&b16, image.NewGray16(image.Rect(0, 0, 3, 2))); err != nil {
		f.Fatal(err)
	}
	f.Add(b16.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		img, err := decodePNG(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("error %v is not ErrFrame", err)
			}
			return
		}
		if s := img.Bounds().Size(); s.X > maxSide || s.Y > maxSide {
			t.Fatalf("decoded %v", s)
		}
	})
}

// TestDecodePNGColourBeforePixels: a small file declaring a colour image at
// the largest allowed size is refused from its header, before the decoder
// allocates the 512 MB a 16-bit RGBA image of that size takes.
func TestDecodePNGColourBeforePixels(t *testing.T) {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, maxSide)
	ihdr = binary.BigEndian.AppendUint32(ihdr, maxSide)
	ihdr = append(ihdr, 16, 6, 0, 0, 0) // 16-bit RGBA, no interlace
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64))
	zw.Close()
	in := []byte("\x89PNG\r\n\x1a\n")
	in = append(in, chunk("IHDR", ihdr)...)
	in = append(in, chunk("IDAT", z.Bytes())...)
	in = append(in, chunk("IEND", nil)...)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := decodePNG(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFrame) {
		t.Fatalf("err = %v, want ErrFrame", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("refusing a colour PNG allocated %d MB", n>>20)
	}
}
