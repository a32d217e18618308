package dev.dit4j.examples.options;

import dev.dit4j.nn.Device;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --device}: parsed with the rest of the command line, so a typo is a usage error before any work starts. */
public final class DeviceOption {
    @Option(names = "--device", converter = Parser.class, description = "cpu or cuda:N (default ${DEFAULT-VALUE})")
    private Device device = Device.CPU;

    public Device device() {
        return device;
    }

    /**
     * Reports what {@link Device#parse} rejects as picocli's "Invalid value for option '--device': ...",
     * including a CUDA device on a CPU build of libtorch (with what to install), before any work.
     */
    static final class Parser implements ITypeConverter<Device> {
        @Override
        public Device convert(String text) {
            try {
                return Device.parse(text);
            } catch (IllegalArgumentException | IllegalStateException e) { // a typo, or CUDA this libtorch lacks
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
