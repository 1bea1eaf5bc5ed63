// Conformance driver for aws-sdk-go-v2: resolves credentials through LoadDefaultConfig's
// CredentialsCache once per step and prints, as JSON, the metadata calls each resolution made
// and how long the SDK will keep the credentials it holds. Usage: v2 ENDPOINT WAIT_S...
// The endpoint also comes in AWS_EC2_METADATA_SERVICE_ENDPOINT, which config reads.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

const settle = 300 * time.Millisecond // a background refresh, if any, lands within this

func stats(endpoint string) map[string]int {
	answer, err := http.Get(endpoint + "/_emulator/stats")
	if err != nil {
		fail(err)
	}
	defer answer.Body.Close()
	counts := map[string]int{}
	if err := json.NewDecoder(answer.Body).Decode(&counts); err != nil {
		fail(err)
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	endpoint := os.Args[1]
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fail(err)
	}
	gets := []map[string]interface{}{}
	for _, arg := range os.Args[2:] {
		wait, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			fail(err)
		}
		time.Sleep(time.Duration(wait * float64(time.Second)))
		before := stats(endpoint)
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			fail(err)
		}
		during := stats(endpoint)
		time.Sleep(settle)
		after := stats(endpoint)
		gets = append(gets, map[string]interface{}{
			"during": delta(before, during), "after": delta(during, after),
			"expires_in_s": time.Until(creds.Expires).Seconds(),
		})
	}
	out, _ := json.Marshal(map[string]interface{}{"version": aws.SDKVersion, "gets": gets})
	fmt.Println(string(out))
}
