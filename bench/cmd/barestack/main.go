// Command barestack is the baseline of the projects read benchmark (docs/PERFORMANCE.md): the
// least a GET /api/v1/projects/{id} can cost with this architecture — grpc-gateway in front of
// a gRPC server whose GetProject is one pgx primary-key read. No authentication, rate limiting,
// membership check, envelope, metrics or tracing. It reads the projects table the projects
// service created in the same database, and serves the same JSON message.
//
// Like FuzzyLlama it can run as two processes, the REST gateway (-grpc-target) and the gRPC
// server (-grpc-listen), so that both stacks are compared in the same topology; with neither
// flag it runs both in one process.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
)

type server struct {
	pb.UnimplementedProjectsServiceServer
	pool *pgxpool.Pool
}

func (s *server) GetProject(ctx context.Context, req *pb.GetProjectRequest) (*pb.GetProjectResponse, error) {
	p := &pb.Project{}
	var created, updated time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, name, description, owner_id, current_gate, created_at, updated_at
		FROM projects.projects WHERE id = $1`, req.GetProjectId()).
		Scan(&p.Id, &p.Name, &p.Description, &p.OwnerId, &p.CurrentGate, &created, &updated)
	if err == pgx.ErrNoRows {
		return nil, status.Error(codes.NotFound, "not found")
	}
	if err != nil {
		return nil, err
	}
	p.CreateTime, p.UpdateTime = timestamppb.New(created), timestamppb.New(updated)
	return &pb.GetProjectResponse{Project: p}, nil
}

func main() {
	dbURL := flag.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL (the projects service's database)")
	httpAddr := flag.String("http", "127.0.0.1:18090", "REST address (gateway role)")
	grpcListen := flag.String("grpc-listen", "", "run only the gRPC server, listening here")
	grpcTarget := flag.String("grpc-target", "", "run only the REST gateway, calling the gRPC server here")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	target := *grpcTarget
	if target == "" {
		listen := cmp.Or(*grpcListen, "127.0.0.1:0")
		pool, err := pgxpool.New(ctx, *dbURL)
		if err != nil {
			log.Fatal(err)
		}
		lis, err := net.Listen("tcp", listen)
		if err != nil {
			log.Fatal(err)
		}
		gs := grpc.NewServer()
		pb.RegisterProjectsServiceServer(gs, &server{pool: pool})
		if *grpcListen != "" {
			go func() { <-ctx.Done(); gs.Stop() }()
			fmt.Fprintln(os.Stderr, "barestack server is up:", lis.Addr())
			_ = gs.Serve(lis)
			return
		}
		go func() { _ = gs.Serve(lis) }()
		target = lis.Addr().String()
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	mux := runtime.NewServeMux()
	if err := pb.RegisterProjectsServiceHandlerClient(ctx, mux, pb.NewProjectsServiceClient(conn)); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *httpAddr, Handler: mux}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Fprintln(os.Stderr, "barestack is up:", *httpAddr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
