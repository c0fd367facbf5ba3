package secmem_test

import (
	"context"
	"fmt"

	"github.com/palmd/palmd/uplink/secmem"
)

func ExamplePool() {
	pool, err := secmem.NewPool(128*128, 4, nil)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	buf, err := pool.Get(context.Background())
	if err != nil {
		panic(err)
	}
	defer buf.Release() // zeroes it
	copy(buf.Bytes(), "palm region pixels")
	fmt.Println(buf)
	// Output: [redacted 16384 bytes]
}
