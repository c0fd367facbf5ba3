// Command palmctl is the technician's and the test rig's client for a
// kiosk's console (package firmware/console): it connects over the
// kiosk's serial port or its unix socket, logs in by signing the console's
// challenge with a key file, and runs any console command, printing the
// answer as text or, with --json, as one JSON object.
//
//	palmctl keygen -key FILE -user NAME [-role technician|factory]
//	palmctl [-socket PATH | -serial DEVICE] -key FILE -user NAME COMMAND [ARGS] [--json]
//	palmctl hil run [-junit FILE] [-palmd BINARY [-parallel N] | -socket PATH -key FILE -user NAME] FILES...
//
// hil run drives a kiosk through scenario files (hil/scenario.schema.json)
// in the console's machine mode: with -palmd it starts palmd's simulation
// build for each scenario, with a fresh key, up to -parallel at once;
// otherwise it connects to a running kiosk, simulated or a rig, and runs
// one scenario at a time. It writes a JUnit report, one test
// case per scenario, and exits 0 only if every scenario passed.
package main
