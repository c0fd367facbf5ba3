package sim

import (
	"reflect"
	"slices"
	"strings"
)

// Actions lists the actions a scenario step may hold (the JSON names of
// Step's fields), sorted.
func Actions() []string { return Fields(Step{}) }

// Fields lists the JSON names of the fields of v, a struct such as Step,
// HoverStep or AppEnrolStep, sorted: what a step's object may hold.
func Fields(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
