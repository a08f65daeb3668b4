package oatk

/*
#include <stdlib.h>
#include "oatk.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Status is liboatk's oatk_status: a stable number per kind of failure. Each
// non-OK Status is also an error value to compare with errors.Is:
//
//	if errors.Is(err, oatk.ErrExpired) { ... }
type Status int

// The statuses, with liboatk's numbers (never reused).
const (
	OK                      Status = C.OATK_OK
	ErrInvalidArgument      Status = C.OATK_ERR_INVALID_ARGUMENT
	ErrIO                   Status = C.OATK_ERR_IO
	ErrKey                  Status = C.OATK_ERR_KEY
	ErrJWKS                 Status = C.OATK_ERR_JWKS
	ErrMalformed            Status = C.OATK_ERR_MALFORMED
	ErrUnsupportedAlgorithm Status = C.OATK_ERR_UNSUPPORTED_ALGORITHM
	ErrUnknownKey           Status = C.OATK_ERR_UNKNOWN_KEY
	ErrSignature            Status = C.OATK_ERR_SIGNATURE
	ErrExpired              Status = C.OATK_ERR_EXPIRED
	ErrNotYetValid          Status = C.OATK_ERR_NOT_YET_VALID
	ErrAudience             Status = C.OATK_ERR_AUDIENCE
	ErrIssuer               Status = C.OATK_ERR_ISSUER
	ErrClaims               Status = C.OATK_ERR_CLAIMS
	ErrNetwork              Status = C.OATK_ERR_NETWORK
	ErrServer               Status = C.OATK_ERR_SERVER
	ErrPanic                Status = C.OATK_ERR_PANIC
	ErrMissingClaim         Status = C.OATK_ERR_MISSING_CLAIM
)

// Name is the C name, e.g. "OATK_ERR_EXPIRED".
func (s Status) Name() string { return C.GoString(C.oatk_status_name(C.oatk_status(s))) }

// Code is the code shared by every oatk binding, e.g. "EXPIRED" (Python's err.code).
func (s Status) Code() string { return C.GoString(C.oatk_status_code(C.oatk_status(s))) }

// Error makes a Status usable as a sentinel error for errors.Is.
func (s Status) Error() string { return "oatk: " + s.Code() }

// Error is a failed liboatk call: its status, the shared code, and the message
// core made (naming the file, claim or key that failed).
type Error struct {
	Status  Status
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("oatk: %s: %s", e.Code, e.Message) }

// Is reports whether target is this error's Status (errors.Is(err, oatk.ErrExpired)).
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// invalidArgument is the error for a Go value that cannot cross into C.
func invalidArgument(message string) error {
	return &Error{Status: ErrInvalidArgument, Code: ErrInvalidArgument.Code(), Message: message}
}

// errorFrom turns a status and the message copied in the same cgo call into
// an error (nil for OATK_OK), and frees the copy.
func errorFrom(status C.oatk_status, msg *C.char) error {
	if msg != nil {
		defer C.free(unsafe.Pointer(msg))
	}
	if status == C.OATK_OK {
		return nil
	}
	s := Status(status)
	return &Error{Status: s, Code: s.Code(), Message: C.GoString(msg)}
}
