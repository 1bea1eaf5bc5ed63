// Conformance driver for aws-sdk-go-v2: resolves credentials through LoadDefaultConfig's
// CredentialsCache once per step (go/src/driver runs the steps) and reports how long the SDK
// will keep them. Usage: v2 ENDPOINT WAIT_S...
// The endpoint also comes in AWS_EC2_METADATA_SERVICE_ENDPOINT, which config reads.
package main

import (
	"context"
	"time"

	"driver"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		driver.Fail(err)
	}
	driver.Run(aws.SDKVersion, func() (*time.Time, error) {
		creds, err := cfg.Credentials.Retrieve(ctx)
		return &creds.Expires, err
	})
}
