/**
 * Command-line options that several dit4j commands share, as picocli mixins: each is declared
 * once here, and a command that takes a different default passes it to the mixin's constructor
 * (picocli's {@code ${DEFAULT-VALUE}} in the help then shows that command's own default). A
 * command that words an option's help its own way puts it in its resource bundle under the
 * option's name without dashes (e.g. {@code lr} in {@code TrainDiT.properties}), where picocli
 * looks first.
 */
package dev.dit4j.examples.options;
