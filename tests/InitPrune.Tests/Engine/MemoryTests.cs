using InitPrune.Engine;

namespace InitPrune.Tests.Engine;

/// <summary>Out-of-memory and native errors become one readable line.</summary>
public class MemoryTests
{
    [Fact]
    public void A_native_error_is_cut_to_its_first_line_without_the_stack()
    {
        const string native = "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 4000 bytes. Error code 12 (Cannot allocate memory)\nframe #0: c10::ThrowEnforceNotMet(char const*, int) + 0x68 (0x7f in libc10.so)\nframe #1: c10::alloc_cpu(unsigned long)";
        Assert.Equal("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 4000 bytes. Error code 12 (Cannot allocate memory)",
            Memory.NativeFirstLine(native));
        Assert.Equal("Expected false to be true", Memory.NativeFirstLine("Expected false to be true frame #0: at::add (0x1)"));
        Assert.True(Memory.IsOutOfMemory(new System.Runtime.InteropServices.ExternalException(native)));
        Assert.False(Memory.IsOutOfMemory(new System.Runtime.InteropServices.ExternalException("shape mismatch")));
    }
}
