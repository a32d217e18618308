package dev.dit4j.nn.io;

/** A checkpoint file that cannot be read or written: names the file and what is wrong with it. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
