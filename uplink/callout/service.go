package callout

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Subject is where servers send authorization requests (in the account
// whose JWT enables external authorization).
const Subject = "$SYS.REQ.USER.AUTH"

// ReplySubjects are the servers' inboxes the answers go to. A server
// (nats-server v2.15.3 on) denies every connection the service lets into
// the account publishing or subscribing to Subject and ReplySubjects.
const ReplySubjects = "$SYS._INBOX.>"

// QueueGroup shares the requests among the service's instances.
const QueueGroup = "palmcloud-callout"

// xkeyHeader names the server's curve public key on an encrypted request.
const xkeyHeader = "Nats-Server-Xkey"

// Config configures a Service.
type Config struct {
	// Issuers are the accepted issuers of the kiosks' JWTs.
	Issuers Issuers
	// Signer signs the answers and the users they carry: the account's key
	// or one of Issuers.SigningKeys (preferred: the account key then stays
	// offline).
	Signer nkeys.KeyPair
	// XKey, if set, is the curve key whose public key the account JWT names
	// (authorization xkey): requests are then encrypted to it and answers
	// to the server. Nil: requests and answers in clear.
	XKey nkeys.KeyPair
	// Logger receives a warning per refusal and a debug line per client let
	// in (default slog.Default()).
	Logger *slog.Logger
}

// Service answers the server's authorization requests.
type Service struct {
	is     Issuers
	signer nkeys.KeyPair
	issAcc string // the answers' issuer_account, when Signer is a signing key
	xkey   nkeys.KeyPair
	log    *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if !nkeys.IsValidPublicAccountKey(cfg.Issuers.Account) {
		return nil, errors.New("callout: config: Issuers.Account is not an account public key")
	}
	if cfg.Signer == nil {
		return nil, errors.New("callout: config: Signer is required (the account key or one of its signing keys)")
	}
	pub, err := cfg.Signer.PublicKey()
	if err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return nil, errors.New("callout: config: Signer is not an account key pair")
	}
	s := &Service{is: cfg.Issuers, signer: cfg.Signer, xkey: cfg.XKey, log: cfg.Logger}
	switch {
	case pub == cfg.Issuers.Account:
	case slices.Contains(cfg.Issuers.SigningKeys, pub):
		s.issAcc = cfg.Issuers.Account
	default:
		return nil, errors.New("callout: config: Signer is neither the account nor one of its signing keys")
	}
	if cfg.XKey != nil {
		if xpub, err := cfg.XKey.PublicKey(); err != nil || !nkeys.IsValidPublicCurveKey(xpub) {
			return nil, errors.New("callout: config: XKey is not a curve (xkey) key pair")
		}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Subscribe answers the requests nc receives on Subject, in the queue
// group QueueGroup, until the subscription is drained or nc closed.
func (s *Service) Subscribe(nc *nats.Conn) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(Subject, QueueGroup, func(m *nats.Msg) {
		if out := s.Answer(m.Header.Get(xkeyHeader), m.Data); out != nil {
			if err := m.Respond(out); err != nil {
				s.log.Warn("callout: respond", "err", err)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("callout: subscribe %s: %w", Subject, err)
	}
	return sub, nil
}

// Answer returns the answer to one request: serverXKey is the request's
// Nats-Server-Xkey header (empty if in clear), data its body. The answer
// is a user JWT for the server-assigned user nkey with the kiosk JWT's name
// and permissions, or an error naming the reason. A request that does not
// decode gets no answer (nil): the server refuses the client when it
// times out.
func (s *Service) Answer(serverXKey string, data []byte) []byte {
	if s.xkey != nil {
		if serverXKey == "" {
			s.refused(RequestInvalid, "", "", errors.New("request not encrypted: the account JWT names no xkey"))
			return nil
		}
		var err error
		if data, err = s.xkey.Open(data, serverXKey); err != nil {
			s.refused(RequestInvalid, "", "", fmt.Errorf("open request: %w", err))
			return nil
		}
	}
	req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
	if err != nil {
		s.refused(RequestInvalid, "", "", err)
		return nil
	}
	vr := jwt.CreateValidationResults()
	req.Validate(vr)
	if vr.IsBlocking(true) || !nkeys.IsValidPublicUserKey(req.UserNkey) || !nkeys.IsValidPublicServerKey(req.Server.ID) {
		s.refused(RequestInvalid, "", req.Server.Name, errors.New("request expired, or without user nkey or server id"))
		return nil
	}
	if s.xkey != nil && req.Server.XKey != serverXKey {
		s.refused(RequestInvalid, "", req.Server.Name, errors.New("server xkey differs from the header's"))
		return nil
	}
	cert, err := verifiedLeaf(req.TLS)
	if err != nil {
		return s.answer(req, claimedName(req.ConnectOptions.JWT), "", refuse(NoCertificate, err))
	}
	kiosk, err := s.is.Verify(Connection{
		JWT:   req.ConnectOptions.JWT,
		Sig:   req.ConnectOptions.SignedNonce,
		Nonce: []byte(req.ClientInformation.Nonce),
		Cert:  cert,
	})
	if err != nil {
		return s.answer(req, claimedName(req.ConnectOptions.JWT), "", err)
	}
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Name = kiosk.Name
	uc.Expires = kiosk.Expires
	uc.UserPermissionLimits = kiosk.UserPermissionLimits
	uc.IssuerAccount = s.issAcc
	ujwt, err := uc.Encode(s.signer)
	if err != nil {
		return s.answer(req, kiosk.Name, "", fmt.Errorf("callout: encode user: %w", err))
	}
	s.log.Debug("callout: allowed", "user", kiosk.Name, "server", req.Server.Name)
	return s.answer(req, kiosk.Name, ujwt, nil)
}

// answer encodes (and encrypts) the response to req: the user JWT ujwt, or
// the reason of refusal.
func (s *Service) answer(req *jwt.AuthorizationRequestClaims, name, ujwt string, refusal error) []byte {
	rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	rc.Audience = req.Server.ID
	rc.IssuerAccount = s.issAcc
	if refusal != nil {
		r := ReasonOf(refusal)
		s.refused(r, name, req.Server.Name, refusal)
		rc.Error = string(r)
	} else {
		rc.Jwt = ujwt
	}
	out, err := rc.Encode(s.signer)
	if err != nil {
		s.log.Error("callout: encode response", "err", err)
		return nil
	}
	if s.xkey == nil {
		return []byte(out)
	}
	sealed, err := s.xkey.Seal([]byte(out), req.Server.XKey)
	if err != nil {
		s.log.Error("callout: seal response", "err", err)
		return nil
	}
	return sealed
}

// claimedName is the name in a user JWT that may be refused, for the log
// ("" if it does not decode).
func claimedName(ujwt string) string {
	uc, err := jwt.DecodeUserClaims(ujwt)
	if err != nil {
		return ""
	}
	return uc.Name
}

// refused logs a refusal: the reason, the user's name if known (as the
// JWT claims it) and the server; err is from the jwt and x509 libraries,
// which name no key.
func (s *Service) refused(r Reason, name, server string, err error) {
	if re, ok := errors.AsType[*RefusedError](err); ok {
		err = re.Err
	}
	if err == nil {
		s.log.Warn("callout: refused", "reason", string(r), "user", name, "server", server)
		return
	}
	s.log.Warn("callout: refused", "reason", string(r), "user", name, "server", server, "err", err)
}

// verifiedLeaf returns the client certificate of the first chain the
// server verified. The server verified it against its ca_file; an
// unverified certificate (ClientTLS.Certs) is not accepted.
func verifiedLeaf(t *jwt.ClientTLS) (*x509.Certificate, error) {
	if t == nil || len(t.VerifiedChains) == 0 || len(t.VerifiedChains[0]) == 0 {
		return nil, errors.New("no verified chain")
	}
	block, rest := pem.Decode([]byte(t.VerifiedChains[0][0]))
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("client certificate: want one PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	return cert, nil
}
