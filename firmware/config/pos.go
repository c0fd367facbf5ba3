package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// POS is the point-of-sale link (package firmware/pos). Both Listen and
// Serial empty: the kiosk has no point of sale.
type POS struct {
	// Listen is the TCP address the point of sale connects to, on the
	// loopback interface only (the link has no authentication of its
	// own), e.g. "127.0.0.1:7700".
	Listen string `json:"listen"`
	// Serial is the serial line the point of sale is on, e.g. "/dev/ttyS1",
	// at Baud (9600 if 0).
	Serial string `json:"serial"`
	Baud   int    `json:"baud"`
}

func (p POS) check() string {
	if p.Listen != "" {
		ap, err := netip.ParseAddrPort(p.Listen)
		if err != nil || !ap.Addr().IsLoopback() {
			return fmt.Sprintf("listen: %q: want a loopback address and port, e.g. 127.0.0.1:7700", p.Listen)
		}
	}
	if p.Serial != "" && (!strings.HasPrefix(p.Serial, "/") || strings.Contains(p.Serial, "..")) {
		return fmt.Sprintf("serial: %q: want an absolute path", p.Serial)
	}
	if p.Baud != 0 && (p.Baud < 1200 || p.Baud > 921600) {
		return fmt.Sprintf("baud: %d: want 1200 to 921600", p.Baud)
	}
	return ""
}
