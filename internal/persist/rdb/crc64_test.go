package rdb

import "testing"

func TestCRC64Jones(t *testing.T) {
	// check value from Redis's crc64.c self test
	tab := NewCRCTable()
	if got := tab.Update(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x", got)
	}
	li := []byte("This is a test of the emergency broadcast system.")
	// incremental equals one shot
	if tab.Update(tab.Update(0, li[:10]), li[10:]) != tab.Update(0, li) {
		t.Fatal("incremental crc differs")
	}
}
