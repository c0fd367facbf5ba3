package eval_test

import (
	"context"
	"fmt"

	"github.com/palmd/palmd/vision/eval"
	"github.com/palmd/palmd/vision/synth"
)

func Example() {
	set, err := eval.OpenExternalSet("testdata/example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close()
	report, err := eval.Evaluate(context.Background(), len(set.Entries), set.Capture)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d captures; screen replay APCER %.0f%%; BPCER %.0f%%\n", len(set.Entries), 100*report.APCER(synth.ScreenReplay), 100*report.BPCER())
	// Output: 4 captures; screen replay APCER 0%; BPCER 0%
}
