// Package relay drives an entry gate through a relay on a GPIO output and
// reads the door's state from a GPIO input.
//
// Open energises the relay (active high) for the pulse length, timed by an
// injected clock, and always releases it afterwards, also when the context
// ends early. Halt releases the relay at once. The driver never closes or
// halts the pins it is given.
package relay
