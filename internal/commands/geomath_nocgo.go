//go:build !cgo

package commands

import "math"

// Without cgo Go's own functions are used: geo distances may then differ
// from Redis's in the last digits.

func geoSin(x float64) float64  { return math.Sin(x) }
func geoCos(x float64) float64  { return math.Cos(x) }
func geoAsin(x float64) float64 { return math.Asin(x) }
