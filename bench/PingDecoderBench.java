/*
 * The ping format's decoder (flink_jobs/java, PingDecoder) alone, on simulator-shaped pings:
 * nanoseconds per record, without Kafka, the watermark or anything downstream.
 *
 * Run with Java 17's source launcher and PyFlink's lib/ (where `python -m stack fetch` installs
 * the functions jar), e.g.
 *
 *     java -cp "$(.venv/bin/python -c 'import pyflink, os; print(os.path.dirname(pyflink.__file__))')/lib/*" \
 *         bench/PingDecoderBench.java [rounds]
 *
 * Point -cp at another build's jar to compare two decoders; they must run in separate JVMs (the
 * classes have the same names). Each round decodes the same 200,000 pings; the first rounds warm
 * the JIT up, so read the later ones. The pings follow simulator/engine.py's PING_TEMPLATE
 * (compact JSON, about 140 bytes, ASCII), with a fixed seed.
 */

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;

import com.pizzario.flink.PingContract;
import com.pizzario.flink.PingDecoder;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.VarCharType;

public class PingDecoderBench {

    private static final int PINGS = 200_000;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        long now = System.currentTimeMillis();
        Random random = new Random(7);
        byte[][] pings = new byte[PINGS][];
        for (int n = 0; n < PINGS; n++) {
            int customer = 1 + random.nextInt(200);
            pings[n] = String.format(Locale.ROOT,
                    "{\"event_id\":\"run7f3a-%x-%x\",\"customer_id\":%d,\"device_id\":\"dev-%05d\","
                            + "\"ts\":%d,\"lat\":%.7f,\"lon\":%.7f,\"accuracy_m\":%.1f}",
                    n / 50, n % 50, customer, customer, now - PINGS + n,
                    12.99 + random.nextDouble() * 0.01, 77.69 + random.nextDouble() * 0.01,
                    random.nextDouble() * 30).getBytes(StandardCharsets.UTF_8);
        }
        VarCharType text = new VarCharType(VarCharType.MAX_LENGTH);
        RowType columns = RowType.of(
                new LogicalType[] {
                    text, new BigIntType(), text, new BigIntType(), new DoubleType(),
                    new DoubleType(), new DoubleType(), text, text, new BigIntType()
                },
                new String[] {
                    "event_id", "customer_id", "device_id", "ts", "lat", "lon", "accuracy_m",
                    "rejection", "record", "rejected_at"
                });
        PingContract contract = new PingContract(12.9, 13.1, 77.6, 77.8, 86_400_000L, 300_000L);
        PingDecoder decoder = new PingDecoder(contract, 0L, columns);
        decoder.open(null);
        for (int round = 1; round <= rounds; round++) {
            int kept = 0;
            long started = System.nanoTime();
            for (byte[] ping : pings) {
                RowData row = decoder.deserialize(ping);
                kept += row.isNullAt(7) ? 1 : 0;
            }
            long elapsed = System.nanoTime() - started;
            System.out.printf("round %2d: %6.0f ns per record (%d of %d kept)%n",
                    round, elapsed / (double) PINGS, kept, PINGS);
        }
    }
}
