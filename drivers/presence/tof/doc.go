// Package tof reads a VL53L0X-class time-of-flight ranging sensor on an I²C
// bus and reports, debounced, whether a hand hovers in the capture volume.
//
// periph.io has no driver for this sensor, so this is a small one: it checks
// the model ID, selects 2.8 V I/O, reads the sensor's "stop variable", and
// ranges back-to-back (continuous) from the first Read until Halt. Each Read
// waits for the next sample (polling the interrupt status on an injected
// clock), reads the range result block and clears the interrupt. It does not
// run ST's reference SPAD and temperature calibrations; the sensor ranges with
// its factory defaults, which are good enough to tell "hand at 40–250 mm" from
// "nothing".
//
// A sample counts as a hand when the sensor reports a valid range (device
// range status 11) between Near and Far. The reported state changes only
// after the new state has held for the debounce time, so a hand passing the
// edge of the volume does not flicker the kiosk awake.
package tof
