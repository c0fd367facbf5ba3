// Package fbdev shows kiosk screens on a Linux framebuffer (/dev/fbN).
//
// Open reads the screen geometry and pixel layout with the
// FBIOGET_VSCREENINFO and FBIOGET_FSCREENINFO ioctls, maps the framebuffer
// memory, and Show draws each screen with display.Render into an off-screen
// image that is then converted into the framebuffer's pixel format: RGB565
// (16 bits per pixel) or XRGB8888 (32 bits per pixel), both true colour in the
// machine's byte order. Other layouts are refused at Open with
// ErrUnsupported. Halt blanks the screen; Close unmaps and closes the device.
package fbdev
