package traffic

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The demo service, chaosd.demo.Demo, has one unary method that echoes its
// request. It is declared by hand (a grpc.ServiceDesc over well-known
// wrapper types) so the module needs no generated code for it.
const (
	ServiceName = "chaosd.demo.Demo"
	MethodName  = "Echo"
	fullMethod  = "/" + ServiceName + "/" + MethodName
)

// echoServer is what the service descriptor dispatches to.
type echoServer interface {
	echo(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: ServiceName,
	HandlerType: (*echoServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: MethodName,
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(echoServer).echo(ctx, req.(*wrapperspb.StringValue))
			}
			if interceptor == nil {
				return call(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}, call)
		},
	}},
	Metadata: "chaosd/demo.proto",
}

// invokeEcho calls the demo method on conn.
func invokeEcho(ctx context.Context, conn grpc.ClientConnInterface, msg string) (*wrapperspb.StringValue, error) {
	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, fullMethod, wrapperspb.String(msg), out); err != nil {
		return nil, err
	}
	return out, nil
}
