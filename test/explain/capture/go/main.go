// Prints the error a Go database driver returns for one connection attempt, as an application
// would log it (fmt.Println(err)). Used by ../capture.ts to build the explain corpus.
//
//	go run . <client> '<json case>'    client: pgx | pq | mongo | gocql
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/gocql/gocql"
	"github.com/jackc/pgx/v5"
	_ "github.com/lib/pq"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

type testCase struct {
	URL       string `json:"url"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	User      string `json:"user"`
	Password  string `json:"password"`
	TimeoutMs int    `json:"timeoutMs"`
	TLS       bool   `json:"tls"`
	// SQL: statements to run once connected ("@sleep <ms>" pauses), for faults inside a session.
	SQL    []string `json:"sql"`
	CAFile string   `json:"caFile"`
	// Cassandra: keyspace, local data centre, protocol version, and one statement at a consistency level.
	Keyspace        string `json:"keyspace"`
	DC              string `json:"dc"`
	ProtocolVersion int    `json:"protocolVersion"`
	CQL             string `json:"cql"`
	Consistency     string `json:"consistency"`
	// MongoDB: the admin command to run once connected (ping needs no login; listDatabases does).
	Command string `json:"command"`
}

func runAll(statements []string, exec func(string) error) error {
	for _, statement := range statements {
		var ms int
		if _, scanErr := fmt.Sscanf(statement, "@sleep %d", &ms); scanErr == nil {
			time.Sleep(time.Duration(ms) * time.Millisecond)
			continue
		}
		if err := exec(statement); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	var c testCase
	if err := json.Unmarshal([]byte(os.Args[2]), &c); err != nil {
		panic(err)
	}
	if c.TimeoutMs == 0 {
		c.TimeoutMs = 3000
	}
	timeout := time.Duration(c.TimeoutMs) * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "pgx":
		var conn *pgx.Conn
		conn, err = pgx.Connect(ctx, c.URL)
		if err == nil {
			err = runAll(c.SQL, func(statement string) error { _, e := conn.Exec(context.Background(), statement); return e })
			conn.Close(ctx)
		}
	case "pq":
		var db *sql.DB
		db, err = sql.Open("postgres", c.URL)
		if err == nil {
			db.SetMaxOpenConns(1)
			err = db.PingContext(ctx)
			if err == nil {
				err = runAll(c.SQL, func(statement string) error { _, e := db.Exec(statement); return e })
			}
			db.Close()
		}
	case "mongo":
		opts := options.Client().ApplyURI(c.URL).SetServerSelectionTimeout(timeout)
		var client *mongo.Client
		client, err = mongo.Connect(ctx, opts)
		if err == nil {
			if c.Command != "" {
				err = client.Database("admin").RunCommand(ctx, bson.D{{Key: c.Command, Value: 1}}).Err()
			} else {
				err = client.Ping(ctx, nil)
			}
			client.Disconnect(context.Background())
		}
	case "gocql":
		cluster := gocql.NewCluster(c.Host)
		cluster.Port = c.Port
		cluster.Timeout = timeout
		cluster.ConnectTimeout = timeout
		cluster.DisableInitialHostLookup = true
		cluster.NumConns = 1
		cluster.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 1, Interval: 100 * time.Millisecond}
		if c.User != "" {
			cluster.Authenticator = gocql.PasswordAuthenticator{Username: c.User, Password: c.Password}
		}
		if c.TLS {
			pool := x509.NewCertPool()
			if c.CAFile != "" {
				if pem, readErr := os.ReadFile(c.CAFile); readErr == nil {
					pool.AppendCertsFromPEM(pem)
				}
			}
			cluster.SslOpts = &gocql.SslOptions{Config: &tls.Config{RootCAs: pool, ServerName: c.Host}, EnableHostVerification: true}
		}
		if c.Keyspace != "" {
			cluster.Keyspace = c.Keyspace
		}
		if c.DC != "" {
			cluster.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(c.DC)
		}
		if c.ProtocolVersion != 0 {
			cluster.ProtoVersion = c.ProtocolVersion
		}
		var session *gocql.Session
		session, err = cluster.CreateSession()
		if err == nil {
			if c.CQL != "" {
				consistency := gocql.LocalOne
				if c.Consistency != "" {
					consistency = gocql.ParseConsistency(c.Consistency)
				}
				err = session.Query(c.CQL).Consistency(consistency).Exec()
			}
			session.Close()
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown client", os.Args[1])
		os.Exit(64)
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("connected")
}
