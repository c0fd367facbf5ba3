// Package nirled drives the kiosk's 850 nm LED banks from GPIO pins, with an
// optional PWM pin for brightness, and enforces eye-safety limits.
//
// The firmware strobes the LEDs in step with camera frames by calling Set(on)
// before each frame. The driver refuses to exceed two limits and reports the
// refusal as an error instead: the longest continuous on-time (a timer cuts the
// LEDs when it runs out, even if nobody calls Set again) and the duty cycle over
// a sliding window. Time comes from an injected clock, so both limits are
// tested without waiting.
//
// Hardware strobe alternative: a sensor with a FLASH/STROBE output can drive
// the LED driver's enable line directly, exposing each lit frame exactly. Wire
// that line through an AND gate with one of the GPIO pins given to New; Set(on)
// then arms the strobe for the next frames instead of lighting the LEDs, and the
// same safety limits bound how long the strobe stays armed. Eye safety should
// not rest on software alone: size the LED driver's current limit and add a
// hardware one-shot that cuts the LEDs after the longest legal pulse.
package nirled
