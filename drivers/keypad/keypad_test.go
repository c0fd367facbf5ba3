package keypad

import "testing"

func TestKeyNames(t *testing.T) {
	tests := []struct {
		k    Key
		want string
	}{
		{'0', "digit_0"}, {'9', "digit_9"}, {Enter, "enter"}, {Cancel, "cancel"},
		{Backspace, "backspace"}, {DeleteMyData, "delete_my_data"}, {'x', "key_0x78"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Key(%d).String() = %q, want %q", rune(tt.k), got, tt.want)
		}
	}
}
