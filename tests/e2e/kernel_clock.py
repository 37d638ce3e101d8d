"""kernel_clock: the kernel's word on the system clock, read with adjtimex (modes 0: changes
nothing) through libc, independently of inkan. Prints "SYNCED MAXERROR_US" (SYNCED 1 or 0)."""
import ctypes, ctypes.util
class Timeval(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("usec", ctypes.c_long)]
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long),
                ("tolerance", ctypes.c_long), ("time", Timeval), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("pad", ctypes.c_int * 11)]
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
t = Timex()
state = libc.adjtimex(ctypes.byref(t))
STA_UNSYNC, TIME_ERROR = 0x40, 5
print(1 if state >= 0 and state != TIME_ERROR and not (t.status & STA_UNSYNC) else 0, t.maxerror)
