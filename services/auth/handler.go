package auth

import (
	"context"
	"net/http"

	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// Handler translates the AuthService gRPC API to the domain Service. It holds no rules.
type Handler struct {
	authv1.UnimplementedAuthServiceServer
	Service *Service
}

const tokenType = "Bearer"

// caller returns the verified identity of the request. The authorization interceptor admits
// authenticated RPCs only with one, but a handler must not act for an empty user if it ever
// does not.
func caller(ctx context.Context) (authn.Identity, error) {
	id, ok := authn.FromContext(ctx)
	if !ok || id.UserID == "" || id.SessionID == "" {
		return authn.Identity{}, apperr.Unauthenticated("authentication required")
	}
	return id, nil
}

func userProto(u store.User) *authv1.User {
	return &authv1.User{Id: u.ID, Email: u.Email, Name: u.Name, CreateTime: timestamppb.New(u.CreatedAt)}
}

// Register implements authv1.AuthServiceServer.
func (h *Handler) Register(ctx context.Context, req *authv1.RegisterRequest) (*authv1.RegisterResponse, error) {
	u, t, err := h.Service.Register(ctx, req.GetEmail(), req.GetPassword(), req.GetName(), edge.ClientIP(ctx))
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &authv1.RegisterResponse{User: userProto(u), AccessToken: t.Access, RefreshToken: t.Refresh,
		TokenType: tokenType, ExpiresIn: int32(t.AccessTTL.Seconds())}, nil
}

// Login implements authv1.AuthServiceServer.
func (h *Handler) Login(ctx context.Context, req *authv1.LoginRequest) (*authv1.LoginResponse, error) {
	u, t, err := h.Service.Login(ctx, req.GetEmail(), req.GetPassword(), edge.ClientIP(ctx))
	if err != nil {
		return nil, err
	}
	return &authv1.LoginResponse{User: userProto(u), AccessToken: t.Access, RefreshToken: t.Refresh,
		TokenType: tokenType, ExpiresIn: int32(t.AccessTTL.Seconds())}, nil
}

// Refresh implements authv1.AuthServiceServer.
func (h *Handler) Refresh(ctx context.Context, req *authv1.RefreshRequest) (*authv1.RefreshResponse, error) {
	t, err := h.Service.Refresh(ctx, req.GetRefreshToken())
	if err != nil {
		return nil, err
	}
	return &authv1.RefreshResponse{AccessToken: t.Access, RefreshToken: t.Refresh,
		TokenType: tokenType, ExpiresIn: int32(t.AccessTTL.Seconds())}, nil
}

// Logout implements authv1.AuthServiceServer.
func (h *Handler) Logout(ctx context.Context, _ *authv1.LogoutRequest) (*authv1.LogoutResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.Service.Logout(ctx, id); err != nil {
		return nil, err
	}
	return &authv1.LogoutResponse{}, nil
}

// LogoutAll implements authv1.AuthServiceServer.
func (h *Handler) LogoutAll(ctx context.Context, _ *authv1.LogoutAllRequest) (*authv1.LogoutAllResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	n, err := h.Service.LogoutAll(ctx, id)
	if err != nil {
		return nil, err
	}
	return &authv1.LogoutAllResponse{SessionsEnded: int32(n)}, nil
}

// GetMe implements authv1.AuthServiceServer.
func (h *Handler) GetMe(ctx context.Context, _ *authv1.GetMeRequest) (*authv1.GetMeResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := h.Service.Me(ctx, id)
	if err != nil {
		return nil, err
	}
	return &authv1.GetMeResponse{User: userProto(u)}, nil
}

// ForgotPassword implements authv1.AuthServiceServer.
func (h *Handler) ForgotPassword(ctx context.Context, req *authv1.ForgotPasswordRequest) (*authv1.ForgotPasswordResponse, error) {
	if err := h.Service.ForgotPassword(ctx, req.GetEmail()); err != nil {
		return nil, err
	}
	return &authv1.ForgotPasswordResponse{Message: ForgotPasswordMessage}, nil
}

// ResetPassword implements authv1.AuthServiceServer.
func (h *Handler) ResetPassword(ctx context.Context, req *authv1.ResetPasswordRequest) (*authv1.ResetPasswordResponse, error) {
	if err := h.Service.ResetPassword(ctx, req.GetToken(), req.GetNewPassword()); err != nil {
		return nil, err
	}
	return &authv1.ResetPasswordResponse{}, nil
}

// LookupUsers implements authv1.AuthServiceServer.
func (h *Handler) LookupUsers(ctx context.Context, req *authv1.LookupUsersRequest) (*authv1.LookupUsersResponse, error) {
	users, err := h.Service.LookupUsers(ctx, req.GetEmails(), req.GetIds())
	if err != nil {
		return nil, err
	}
	resp := &authv1.LookupUsersResponse{Users: make([]*authv1.User, len(users))}
	for i, u := range users {
		resp.Users[i] = userProto(u)
	}
	return resp, nil
}

// ListRevokedSessions implements authv1.AuthServiceServer.
func (h *Handler) ListRevokedSessions(ctx context.Context, _ *authv1.ListRevokedSessionsRequest) (*authv1.ListRevokedSessionsResponse, error) {
	list, err := h.Service.RevokedSessions(ctx)
	if err != nil {
		return nil, err
	}
	resp := &authv1.ListRevokedSessionsResponse{Revoked: make([]*authv1.RevokedSession, len(list))}
	for i, r := range list {
		resp.Revoked[i] = &authv1.RevokedSession{UserId: r.UserID, SessionId: r.SessionID,
			EndTime: timestamppb.New(r.EndedAt), ExpireTime: timestamppb.New(r.Expires)}
	}
	return resp, nil
}

// GetJWKS implements authv1.AuthServiceServer.
// IssueServiceToken implements authv1.AuthServiceServer.
func (h *Handler) IssueServiceToken(ctx context.Context, req *authv1.IssueServiceTokenRequest) (*authv1.IssueServiceTokenResponse, error) {
	token, expiry, err := h.Service.IssueServiceToken(ctx, req.GetService(), req.GetCredential(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &authv1.IssueServiceTokenResponse{AccessToken: token, ExpireTime: timestamppb.New(expiry)}, nil
}

func (h *Handler) GetJWKS(context.Context, *authv1.GetJWKSRequest) (*authv1.GetJWKSResponse, error) {
	resp := &authv1.GetJWKSResponse{}
	for _, k := range h.Service.Keys.JWKS() {
		resp.Keys = append(resp.Keys, &authv1.JSONWebKey{Kty: k.Kty, Crv: k.Crv, X: k.X, Kid: k.Kid, Alg: k.Alg, Use: k.Use})
	}
	return resp, nil
}
