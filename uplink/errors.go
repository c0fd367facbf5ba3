package uplink

import "errors"

// Errors returned by Client. Rejections of cloud messages are also logged
// and reported as telemetry events.
var (
	ErrNotConnected = errors.New("uplink: not connected")
	ErrNoCloud      = errors.New("uplink: no cloud responders")
	ErrBadSignature = errors.New("uplink: bad signature")
	ErrMalformed    = errors.New("uplink: malformed message")
	ErrExpired      = errors.New("uplink: expired")
	ErrReplayed     = errors.New("uplink: replayed")
	ErrWrongDevice  = errors.New("uplink: wrong device")
	ErrWrongRequest = errors.New("uplink: wrong request")
)
