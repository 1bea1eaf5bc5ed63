// Package driver is what both Go conformance drivers share: for each WAIT_S argument it
// sleeps, resolves credentials once through the SDK and records the metadata calls the
// emulator counted during that resolution and in the moment after it (a background
// refresh), then prints the steps as JSON. Usage of a driver: DRIVER ENDPOINT WAIT_S...
package driver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

const settle = 300 * time.Millisecond // a background refresh, if any, lands within this

// Get resolves credentials once; it returns their expiry when the SDK exposes it, else nil.
type Get func() (*time.Time, error)

func stats(endpoint string) map[string]int {
	answer, err := http.Get(endpoint + "/_emulator/stats")
	if err != nil {
		Fail(err)
	}
	defer answer.Body.Close()
	counts := map[string]int{}
	if err := json.NewDecoder(answer.Body).Decode(&counts); err != nil {
		Fail(err)
	}
	return counts
}

func delta(from, to map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range to {
		out[k] = v - from[k]
	}
	return out
}

// Fail prints the error and exits 1.
func Fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// Run drives get over the command line's steps and prints the SDK version and the steps.
func Run(version string, get Get) {
	endpoint := os.Args[1]
	gets := []map[string]interface{}{}
	for _, arg := range os.Args[2:] {
		wait, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			Fail(err)
		}
		time.Sleep(time.Duration(wait * float64(time.Second)))
		before := stats(endpoint)
		expires, err := get()
		if err != nil {
			Fail(err)
		}
		during := stats(endpoint)
		time.Sleep(settle)
		after := stats(endpoint)
		step := map[string]interface{}{"during": delta(before, during),
			"after": delta(during, after)}
		if expires != nil {
			step["expires_in_s"] = time.Until(*expires).Seconds()
		}
		gets = append(gets, step)
	}
	out, _ := json.Marshal(map[string]interface{}{"version": version, "gets": gets})
	fmt.Println(string(out))
}
