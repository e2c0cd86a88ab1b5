package commands

import "testing"

func TestProtectedModeDenied(t *testing.T) {
	cases := []struct {
		protected, nopass, local, want bool
	}{
		{true, true, false, true},
		{true, true, true, false},
		{true, false, false, false},
		{false, true, false, false},
	}
	for _, c := range cases {
		if got := ProtectedModeDenied(c.protected, c.nopass, c.local); got != c.want {
			t.Errorf("%+v: got %v", c, got)
		}
	}
}
