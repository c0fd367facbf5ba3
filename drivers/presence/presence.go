// Package presence defines the sensor that notices a hovering hand.
package presence

import "context"

// Reading is one debounced measurement.
type Reading struct {
	Present bool // something is hovering in the capture volume
	MM      int  // distance to it in millimetres; 0 when !Present
}

// Sensor measures whether a hand hovers above the scanner.
type Sensor interface {
	Read(ctx context.Context) (Reading, error)
	Halt() error
}
