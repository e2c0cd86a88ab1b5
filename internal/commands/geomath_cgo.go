//go:build cgo

package commands

// Geo distances must match Redis digit for digit, and Go's math.Sin, Cos
// and Asin differ from the C library's in the last bit for many inputs, so
// with cgo the C library's functions are used (as Redis does).

/*
#cgo LDFLAGS: -lm
#include <math.h>
*/
import "C"

func geoSin(x float64) float64  { return float64(C.sin(C.double(x))) }
func geoCos(x float64) float64  { return float64(C.cos(C.double(x))) }
func geoAsin(x float64) float64 { return float64(C.asin(C.double(x))) }
