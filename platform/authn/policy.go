package authn

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
)

// infrastructure services answer without identity: health checks and reflection carry no data.
var infrastructure = []string{"grpc.health.v1.", "grpc.reflection."}

// PolicyOf returns the access policy declared in the proto for a full gRPC method name
// ("/fuzzyllama.auth.v1.AuthService/Login"). Unknown methods and methods without the option
// return ACCESS_UNSPECIFIED, which the interceptor refuses.
func PolicyOf(fullMethod string) commonv1.Access {
	name := strings.TrimPrefix(fullMethod, "/")
	for _, p := range infrastructure {
		if strings.HasPrefix(name, p) {
			return commonv1.Access_ACCESS_PUBLIC
		}
	}
	svc, method, ok := strings.Cut(name, "/")
	if !ok {
		return commonv1.Access_ACCESS_UNSPECIFIED
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return commonv1.Access_ACCESS_UNSPECIFIED
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return commonv1.Access_ACCESS_UNSPECIFIED
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return commonv1.Access_ACCESS_UNSPECIFIED
	}
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	if opts == nil {
		return commonv1.Access_ACCESS_UNSPECIFIED
	}
	return proto.GetExtension(opts, commonv1.E_Access).(commonv1.Access)
}

// MissingPolicies lists the methods registered on srv that declare no access policy; a test of
// each service asserts it is empty.
func MissingPolicies(srv *grpc.Server) []string {
	var missing []string
	for svc, info := range srv.GetServiceInfo() {
		for _, m := range info.Methods {
			full := "/" + svc + "/" + m.Name
			if PolicyOf(full) == commonv1.Access_ACCESS_UNSPECIFIED {
				missing = append(missing, full)
			}
		}
	}
	return missing
}

// Authorizer enforces the declared access policy of every RPC: it is the one place a gRPC
// server decides whether a caller may call a method at all. Finer checks (may this user touch
// this project?) belong to the service's domain layer.
type Authorizer struct {
	Verifier *Verifier
	Logger   *slog.Logger

	cache sync.Map // full method -> commonv1.Access
}

func (a *Authorizer) policy(fullMethod string) commonv1.Access {
	if p, ok := a.cache.Load(fullMethod); ok {
		return p.(commonv1.Access)
	}
	p := PolicyOf(fullMethod)
	a.cache.Store(fullMethod, p)
	return p
}

// Authorize checks the caller of fullMethod and returns ctx carrying its identity, if any.
func (a *Authorizer) Authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	switch a.policy(fullMethod) {
	case commonv1.Access_ACCESS_PUBLIC:
		return ctx, nil
	case commonv1.Access_ACCESS_USER, commonv1.Access_ACCESS_USER_OR_SERVICE:
		return a.authenticate(ctx)
	case commonv1.Access_ACCESS_SERVICE:
		ctx, err := a.authenticate(ctx)
		if err != nil {
			return nil, err
		}
		if who, _ := FromContext(ctx); !who.Delegated() {
			return nil, status.Error(codes.PermissionDenied, "this method is reserved for FuzzyLlama services")
		}
		return ctx, nil
	default:
		return nil, status.Errorf(codes.PermissionDenied, "method %s declares no access policy", fullMethod)
	}
}

// authenticate verifies the caller's access token, a user's own or one a service holds for the
// user (delegated).
func (a *Authorizer) authenticate(ctx context.Context) (context.Context, error) {
	token, err := BearerFromMetadata(ctx)
	if err != nil {
		return nil, err
	}
	claims, err := a.Verifier.Verify(ctx, token, TypeAccess)
	if errors.Is(err, ErrRevokedCheck) || errors.Is(err, ErrKeysUnavailable) {
		return nil, status.Error(codes.Unavailable, "cannot verify credentials right now")
	}
	if err != nil {
		if a.Logger != nil {
			a.Logger.DebugContext(ctx, "access token rejected", "reason", err.Error())
		}
		return nil, status.Error(codes.Unauthenticated, "invalid or expired access token")
	}
	id := Identity{UserID: claims.Subject, SessionID: claims.SessionID, Token: token}
	if claims.Actor != nil {
		id.Actor = claims.Actor.Subject
	}
	return NewContext(ctx, id), nil
}

// BearerFromMetadata returns the token of the incoming "authorization: Bearer <token>" metadata.
func BearerFromMetadata(ctx context.Context) (string, error) {
	values := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(values) == 0 {
		return "", status.Error(codes.Unauthenticated, "missing access token: send Authorization: Bearer <accessToken>")
	}
	token, ok := ParseBearer(values[0])
	if !ok {
		return "", status.Error(codes.Unauthenticated, "malformed Authorization header: expected Bearer <accessToken>")
	}
	return token, nil
}

// ParseBearer extracts the token of an "Authorization: Bearer <token>" value. It is strict: one
// space, and a token of the RFC 6750 b64token alphabet, so that every hop reads the same token.
func ParseBearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || !isB64Token(token) {
		return "", false
	}
	return token, true
}

// isB64Token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// UnaryInterceptor enforces the access policy of unary RPCs.
func (a *Authorizer) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.Authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor enforces the access policy of streaming RPCs.
func (a *Authorizer) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.Authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		wrapped := middleware.WrapServerStream(ss)
		wrapped.WrappedContext = ctx
		return handler(srv, wrapped)
	}
}
