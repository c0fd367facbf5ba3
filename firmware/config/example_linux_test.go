package config_test

import (
	"fmt"

	"github.com/palmd/palmd/firmware/config"
)

func ExampleLinux_Validate() {
	l := config.DefaultLinux()
	l.Camera.Device = "video0"
	fmt.Println(l.Validate())
	// Output: config: linux.camera.device: "video0": must be a /dev path
}
