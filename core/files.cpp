// Implementation of core/files.h.
#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace anvil {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    gzFile in = gzopen(path.c_str(), "rb");  // reads plain files unchanged
    if (!in) throw Error(str(path.string(), ": cannot open: ", std::strerror(errno)));
    std::string content;
    char buf[1 << 16];
    int n;
    while ((n = gzread(in, buf, sizeof buf)) > 0) content.append(buf, static_cast<size_t>(n));
    int err = 0;
    std::string message = n < 0 ? gzerror(in, &err) : "";
    gzclose(in);
    if (n < 0) throw Error(str(path.string(), ": read failed: ", message));
    return content;
}

void fsync_path(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(str(path.string(), ": cannot open for fsync: ", std::strerror(errno)));
    int rc = ::fsync(fd);
    int saved = errno;
    ::close(fd);
    if (rc != 0) throw Error(str(path.string(), ": fsync failed: ", std::strerror(saved)));
}

void write_file_atomic(const fs::path& path, std::string_view content) {
    fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    fs::create_directories(dir);
    fs::path tmp = dir / str(".", path.filename().string(), ".tmp.", ::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(str(tmp.string(), ": cannot create: ", std::strerror(errno)));
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int saved = errno;
            ::close(fd);
            fs::remove(tmp);
            throw Error(str(path.string(), ": write failed: ", std::strerror(saved)));
        }
        p += w;
        left -= static_cast<size_t>(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        fs::remove(tmp);
        throw Error(str(path.string(), ": fsync/close failed: ", std::strerror(errno)));
    }
    fs::rename(tmp, path);
    fsync_path(dir);
}

}  // namespace anvil
