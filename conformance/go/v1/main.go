// Conformance driver for aws-sdk-go (v1): resolves credentials through the default session
// once per step (go/src/driver runs the steps). Usage: v1 ENDPOINT WAIT_S...
// The endpoint also comes in AWS_EC2_METADATA_SERVICE_ENDPOINT, which the session reads.
package main

import (
	"time"

	"driver"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/session"
)

func main() {
	creds := session.Must(session.NewSession()).Config.Credentials
	driver.Run(aws.SDKVersion, func() (*time.Time, error) {
		_, err := creds.Get()
		return nil, err
	})
}
