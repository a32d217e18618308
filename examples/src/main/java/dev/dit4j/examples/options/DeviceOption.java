package dev.dit4j.examples.options;

import dev.dit4j.models.train.DataParallelJob;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Torch;
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
     * Joins the data-parallel job that the launcher's (or torchrun's, or SLURM's) environment
     * describes, on this device (CUDA: cuda:LOCAL_RANK), saying so on rank 0; without that
     * environment, one process on the device.
     */
    public DataParallelJob joinDataParallel() {
        return joinDataParallel(dev.dit4j.nn.dist.ProcessGroup.timeoutFromEnvironment(System.getenv()));
    }

    /** As {@link #joinDataParallel()}, each wait for the other ranks bounded by {@code timeout}. */
    public DataParallelJob joinDataParallel(java.time.Duration timeout) {
        DataParallelJob job = DataParallelJob.join(device, timeout);
        if (job.isDistributed() && job.isMain()) System.out.println(job.describe());
        return job;
    }

    /** What commands that run an autoencoder on the CPU keep of freed tensor memory, unless -Ddit4j.cpuCacheMib says otherwise. */
    static final long CPU_CACHE_MIB = 1024;

    /**
     * The device, for a command that runs an autoencoder: on the CPU, freed tensor memory is kept
     * for the next tensor ({@link Torch#cacheCpuMemory}, up to {@value #CPU_CACHE_MIB} MiB, or the
     * system property {@code dit4j.cpuCacheMib}; 0 keeps none), since otherwise every large
     * activation of a convolutional network page-faults in fresh memory, about as costly as its
     * arithmetic.
     */
    public Device deviceForAutoencoder() {
        if (!device.isCuda()) Torch.cacheCpuMemory(Long.getLong("dit4j.cpuCacheMib", CPU_CACHE_MIB) << 20);
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
