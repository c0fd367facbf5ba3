package secureboot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TPMCounter is a Counter in a TPM 2.0 NV index of type counter: the TPM
// itself refuses to lower it, and a counter index deleted and defined again
// starts at the highest value any counter on that TPM has held (TPM 2.0
// Part 1, NV counters), so removing it does not reset it.
//
// The index is defined on first use with an empty authorisation value
// (AuthRead, AuthWrite, NoDA); owner-only deletion protects it from palmd
// itself. On Linux the transport is /dev/tpmrm0 (linuxtpm.Open).
type TPMCounter struct {
	TPM   transport.TPM
	Index tpm2.TPMHandle // an NV index handle, 0x01xxxxxx

	mu sync.Mutex
}

var _ Counter = (*TPMCounter)(nil)

// DefaultTPMCounterIndex is the NV index palmd uses: in the owner range
// TCG leaves to platform software (0x01000000–0x013FFFFF).
const DefaultTPMCounterIndex tpm2.TPMHandle = 0x01500150

func (c *TPMCounter) public() (*tpm2.NVReadPublicResponse, error) {
	rsp, err := tpm2.NVReadPublic{NVIndex: c.Index}.Execute(c.TPM)
	if err != nil {
		return nil, err
	}
	pub, err := rsp.NVPublic.Contents()
	if err != nil {
		return nil, fmt.Errorf("secureboot: tpm counter: %w", err)
	}
	if pub.Attributes.NT != tpm2.TPMNTCounter {
		return nil, fmt.Errorf("secureboot: tpm NV index %#x is not a counter", uint32(c.Index))
	}
	return rsp, nil
}

func undefined(err error) bool { return errors.Is(err, tpm2.TPMRCHandle) }

// Read returns the counter; an index not yet defined or never incremented
// reads 0.
func (c *TPMCounter) Read() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read()
}

func (c *TPMCounter) read() (uint64, error) {
	rsp, err := c.public()
	if undefined(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("secureboot: tpm counter: %w", err)
	}
	read, err := tpm2.NVRead{
		AuthHandle: tpm2.AuthHandle{Handle: c.Index, Name: rsp.NVName, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: c.Index, Name: rsp.NVName},
		Size:       8,
	}.Execute(c.TPM)
	if errors.Is(err, tpm2.TPMRCNVUninitialized) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("secureboot: tpm counter: %w", err)
	}
	if len(read.Data.Buffer) != 8 {
		return 0, fmt.Errorf("secureboot: tpm counter: %d bytes", len(read.Data.Buffer))
	}
	return binary.BigEndian.Uint64(read.Data.Buffer), nil
}

// Increment defines the index if needed, increments it and returns the new
// value. The first increment of a new index may jump (it starts at the
// TPM's highest counter value); every later one adds exactly one.
func (c *TPMCounter) Increment() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rsp, err := c.public()
	if undefined(err) {
		if err := c.define(); err != nil {
			return 0, err
		}
		rsp, err = c.public()
	}
	if err != nil {
		return 0, fmt.Errorf("secureboot: tpm counter: %w", err)
	}
	_, err = tpm2.NVIncrement{
		AuthHandle: tpm2.AuthHandle{Handle: c.Index, Name: rsp.NVName, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: c.Index, Name: rsp.NVName},
	}.Execute(c.TPM)
	if err != nil {
		return 0, fmt.Errorf("secureboot: tpm counter increment: %w", err)
	}
	return c.read()
}

func (c *TPMCounter) define() error {
	_, err := tpm2.NVDefineSpace{
		AuthHandle: tpm2.TPMRHOwner,
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
			NVIndex: c.Index,
			NameAlg: tpm2.TPMAlgSHA256,
			Attributes: tpm2.TPMANV{
				AuthRead: true, AuthWrite: true, OwnerRead: true, NoDA: true,
				NT: tpm2.TPMNTCounter,
			},
			DataSize: 8,
		}),
	}.Execute(c.TPM)
	if err != nil {
		return fmt.Errorf("secureboot: defining tpm counter %#x: %w", uint32(c.Index), err)
	}
	return nil
}
