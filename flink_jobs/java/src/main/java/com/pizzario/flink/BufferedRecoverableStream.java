package com.pizzario.flink;

import java.io.IOException;

import org.apache.flink.core.fs.RecoverableFsDataOutputStream;
import org.apache.flink.core.fs.RecoverableWriter;

/**
 * A recoverable file stream that collects small writes in memory and hands them to the
 * underlying stream in blocks.
 *
 * <p>Whatever makes data durable or visible drains the buffer first: {@link #flush()},
 * {@link #sync()}, {@link #persist()} (a checkpoint) and {@link #closeForCommit()}. So a
 * checkpoint's recoverable covers every byte written before it, as with the underlying stream.
 * {@link #close()} without a commit abandons the file, buffer included, as the contract of
 * {@link RecoverableFsDataOutputStream} says.
 */
final class BufferedRecoverableStream extends RecoverableFsDataOutputStream {

    private static final int BUFFER_BYTES = 64 * 1024;

    private final RecoverableFsDataOutputStream out;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int buffered;

    BufferedRecoverableStream(RecoverableFsDataOutputStream out) {
        this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
        if (buffered == buffer.length) {
            drain();
        }
        buffer[buffered++] = (byte) b;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (length > buffer.length - buffered) {
            drain();
            if (length > buffer.length) {
                out.write(bytes, offset, length);
                return;
            }
        }
        System.arraycopy(bytes, offset, buffer, buffered, length);
        buffered += length;
    }

    private void drain() throws IOException {
        if (buffered > 0) {
            out.write(buffer, 0, buffered);
            buffered = 0;
        }
    }

    @Override
    public long getPos() throws IOException {
        return out.getPos() + buffered;
    }

    @Override
    public void flush() throws IOException {
        drain();
        out.flush();
    }

    @Override
    public void sync() throws IOException {
        drain();
        out.sync();
    }

    @Override
    public RecoverableWriter.ResumeRecoverable persist() throws IOException {
        drain();
        return out.persist();
    }

    @Override
    public Committer closeForCommit() throws IOException {
        drain();
        return out.closeForCommit();
    }

    @Override
    public void close() throws IOException {
        buffered = 0;
        out.close();
    }
}
