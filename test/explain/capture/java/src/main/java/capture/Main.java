package capture;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Properties;

/**
 * Prints the exception a Java driver throws for one connection attempt, as an application's log
 * shows it (printStackTrace). Used by ../capture.ts to build the explain corpus.
 *
 *   java -cp … capture.Main pgjdbc <jdbc-url> <user> <password> [sql…]
 *   java -cp … capture.Main cassandra <host> <port> <user> <password> <timeoutMs> [tls]
 */
public final class Main {
  public static void main(String[] args) throws Exception {
    try {
      if (args[0].equals("pgjdbc")) {
        Properties props = new Properties();
        if (!args[2].isEmpty()) props.setProperty("user", args[2]);
        if (!args[3].isEmpty()) props.setProperty("password", args[3]);
        props.setProperty("connectTimeout", "3");
        props.setProperty("socketTimeout", "3");
        try (Connection connection = DriverManager.getConnection(args[1], props)) {
          // Further arguments: statements to run once connected ("@sleep <ms>" pauses).
          for (int i = 4; i < args.length; i++) {
            if (args[i].startsWith("@sleep ")) Thread.sleep(Long.parseLong(args[i].substring(7)));
            else try (java.sql.Statement statement = connection.createStatement()) { statement.execute(args[i]); }
          }
          System.out.println("connected");
        }
      } else {
        Duration timeout = Duration.ofMillis(Long.parseLong(args[5]));
        DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.CONNECTION_CONNECT_TIMEOUT, timeout)
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, timeout)
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, timeout)
            .build();
        CqlSessionBuilder builder = CqlSession.builder()
            .withConfigLoader(config)
            .addContactPoint(InetSocketAddress.createUnresolved(args[1], Integer.parseInt(args[2])))
            .withLocalDatacenter("datacenter1");
        if (!args[3].isEmpty()) builder = builder.withAuthCredentials(args[3], args[4]);
        if (args.length > 6 && args[6].equals("tls")) builder = builder.withSslContext(javax.net.ssl.SSLContext.getDefault());
        try (CqlSession session = builder.build()) {
          System.out.println("connected");
        }
      }
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }
}
